"""Problems found in pipeline files: data, rendered late (text line, or JSON)."""

from __future__ import annotations

from dataclasses import dataclass, replace

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    pointer: str  # RFC 6901 JSON pointer into the document; "" is the whole document
    keyword: str  # the JSON Schema keyword that failed, or a named check such as "asl:reachable"
    message: str
    environment: str | None = None
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def located(self, line: int, column: int) -> Problem:
        return replace(self, line=line, column=column)

    def for_environment(self, environment: str) -> Problem:
        return replace(self, environment=environment)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        env = f" [{self.environment}]" if self.environment else ""
        pointer = self.pointer or "/"
        prefix = "" if self.is_error else "warning: "
        return f"{where}{env}: {prefix}{pointer}: {self.message} ({self.keyword})"


def pointer_of(parts) -> str:
    """A JSON pointer from path parts (keys and list indexes), escaped as RFC 6901 says."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
