"""`${name}` placeholders, filled as Flyway fills them: from the environment's values (tfvars ∪ outputs),
`[migrations.placeholders]` and Flyway's built-ins.

As in Flyway's PlaceholderReplacingReader, every `${` opens a placeholder that ends at the next `}`,
whatever is between and wherever it stands (comments and string literals included), names match
without regard to case, and an unknown one is an error before anything runs. Filling yields two texts:
the SQL that runs, and the SQL people may see, with every sensitive value masked.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from toolkit.support import masking

PLACEHOLDER = re.compile(r"\$\{(.*?)\}", re.S)
_UNCLOSED = re.compile(r"\$\{(?![^}]*\})", re.S)
_NEWLINES = re.compile(r"\r\n|\r|\n")
# Flyway's built-in placeholders (`flyway:filename` is set per file, `flyway:timestamp` per run).
BUILTINS = (
    "flyway:defaultSchema",
    "flyway:user",
    "flyway:database",
    "flyway:timestamp",
    "flyway:filename",
    "flyway:workingDirectory",
    "flyway:table",
)


@dataclass(frozen=True)
class Placeholders:
    """Values by name: `values` is a toolkit.project.values.Values (or None outside an environment);
    `builtins` Flyway's own (`flyway:defaultSchema`, …); `constants` the project's
    `[migrations.placeholders]`, below the environment's values. `enabled=False` is Flyway's
    `placeholderReplacement=false`: the text runs as written."""

    values: object | None = None
    builtins: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True

    def for_file(self, filename: str) -> Placeholders:
        """The same, with `${flyway:filename}` naming this file (as Flyway sets it per script)."""
        if not self.enabled:
            return self
        return replace(self, builtins={**self.builtins, "flyway:filename": filename})

    def resolve(self, name: str) -> tuple[str, bool] | None:
        """(text, sensitive) for a placeholder, or None if unknown; exact names first, then any case."""
        found = self._exact(name)
        if found is None:
            lowered = name.lower()
            match = next((known for known in self.names() if known.lower() == lowered), None)
            found = self._exact(match) if match is not None else None
        return found

    def _exact(self, name: str) -> tuple[str, bool] | None:
        if name in self.builtins:
            return self.builtins[name], False
        found = self.values.lookup(name) if self.values is not None else None
        if found is None:
            return (self.constants[name], False) if name in self.constants else None
        value = found.value
        text = value if isinstance(value, str) else json.dumps(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        if found.sensitive:
            masking.register(text)
        return text, found.sensitive

    def names(self) -> list[str]:
        """Every top-level name that resolves (for did-you-mean and case-insensitive matching)."""
        values = sorted(self.values.names()) if self.values is not None else []
        return [*self.builtins, *values, *self.constants]


@dataclass(frozen=True)
class UnknownPlaceholder:
    """A `${…}` that nothing fills: the file's line, the text as written, and the nearest known name."""

    script: str
    line: int
    name: str
    suggestion: str | None = None
    unclosed: bool = False

    def __str__(self) -> str:
        if self.unclosed:
            return f"{self.script}:{self.line}: `${{` opens a placeholder that no `}}` closes (Flyway reads one here)"
        hint = f" (did you mean ${{{self.suggestion}}}?)" if self.suggestion else ""
        return (
            f"{self.script}:{self.line}: unknown placeholder ${{{self.name}}}{hint}: give it a value in the "
            "environment's tfvars, a Terraform output or [migrations.placeholders]"
        )


def names_in(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) if "${" in text else set()


def unknown(text: str, placeholders: Placeholders) -> list[str]:
    if not placeholders.enabled:
        return []
    return sorted(name for name in names_in(text) if placeholders.resolve(name) is None)


def unknown_in(script: str, text: str, placeholders: Placeholders) -> list[UnknownPlaceholder]:
    """Every `${…}` of a file that nothing fills (and an unclosed `${`), with its line and a did-you-mean."""
    if not placeholders.enabled or "${" not in text:
        return []
    found: list[UnknownPlaceholder] = []
    known: list[str] | None = None
    for match in PLACEHOLDER.finditer(text):
        name = match[1]
        if placeholders.resolve(name) is not None:
            continue
        known = placeholders.names() if known is None else known
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or difflib.get_close_matches(
            name.lower(), [k.lower() for k in known], n=1, cutoff=0.6
        )
        suggestion = next((k for k in known if close and k.lower() == close[0].lower()), None)
        found.append(UnknownPlaceholder(script, _line(text, match.start()), name, suggestion))
    unclosed = _UNCLOSED.search(text)
    if unclosed is not None:
        found.append(UnknownPlaceholder(script, _line(text, unclosed.start()), "", unclosed=True))
    return found


def _line(text: str, offset: int) -> int:
    return len(_NEWLINES.findall(text, 0, offset)) + 1


def fill(text: str, placeholders: Placeholders) -> tuple[str, str]:
    """(SQL to run, SQL to show). Call `unknown()` first: an unknown name is left as written."""
    if "${" not in text or not placeholders.enabled:
        return text, text

    def run(match: re.Match) -> str:
        found = placeholders.resolve(match[1])
        return found[0] if found else match[0]

    def show(match: re.Match) -> str:
        found = placeholders.resolve(match[1])
        if not found:
            return match[0]
        return masking.MASK if found[1] else found[0]

    return PLACEHOLDER.sub(run, text), PLACEHOLDER.sub(show, text)
