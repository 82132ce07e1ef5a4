"""Per-file directives: `-- toolkit:<key>=<value>` comment lines at the top of a migration.

One documented form for everything a file may ask for (docs/migrations.md, "Directives"):
  -- toolkit:transaction=false          run statement by statement, outside a transaction
  -- toolkit:environments=dev,pr-*      run only in these environments (names or shell patterns)
  -- toolkit:allow=drop-column,rename   accept these destructive-change lint rules for this file
  -- toolkit:lock_timeout=5s            PostgreSQL lock_timeout / statement_timeout for this file
  -- toolkit:statement_timeout=10min
They are comments, so Flyway ignores them. A directive below the first statement, a malformed one
(`-- toolkit: allow=x`, `-- TOOLKIT:…`), an unknown key or a bad value is an error: a silently ignored
`transaction=false` would be worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.migrations.rules import RULES

# Lines end where Flyway's checksum and the statement splitter end them: at \r\n, \r or \n.
_NEWLINES = re.compile(r"\r\n|\r|\n")
_MENTIONED = re.compile(r"toolkit[ \t]*:", re.I)
# A comment line meant as a directive, well-formed or not (a misspelt one must not be ignored).
_MEANT = re.compile(r"[ \t]*--[ \t]*toolkit[ \t]*:", re.I)
_DIRECTIVE = re.compile(r"[ \t]*--[ \t]*toolkit:(?P<key>[\w-]+)[ \t]*=[ \t]*(?P<value>.*?)[ \t]*")
_DURATION = re.compile(r"^\d+[ \t]*(us|ms|s|min|h|d)?$")
KEYS = ("transaction", "environments", "allow", "lock_timeout", "statement_timeout")


@dataclass(frozen=True, slots=True)
class Directives:
    transactional: bool = True
    environments: tuple[str, ...] | None = None  # None: every environment
    allow: frozenset[str] = frozenset()
    lock_timeout: str | None = None
    statement_timeout: str | None = None


class DirectiveError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def parse_directives(text: str) -> Directives:
    if not _MENTIONED.search(text):  # the common case: no directive, one pass of a simple regex
        return Directives()
    values: dict[str, str] = {}
    header = True  # blank lines and `--` comment lines before the first statement
    for line, content in enumerate(_NEWLINES.split(text), start=1):
        stripped = content.strip()
        if header and stripped and not stripped.startswith("--"):
            header = False
        if not _MEANT.match(content):
            continue
        if not header:
            raise DirectiveError(f"directive {stripped} must be at the top of the file", line)
        match = _DIRECTIVE.fullmatch(content)
        if match is None:
            raise DirectiveError(
                f"malformed directive {stripped!r}: write `-- toolkit:<key>=<value>` (lower case, no space "
                "before the key)",
                line,
            )
        key, value = match["key"], match["value"]
        if key not in KEYS:
            raise DirectiveError(f"unknown directive toolkit:{key} (known: {', '.join(KEYS)})", line)
        if key in values:
            raise DirectiveError(f"directive toolkit:{key} is given twice", line)
        if key == "transaction" and value not in ("true", "false"):
            raise DirectiveError(f"toolkit:transaction must be true or false, not {value!r}", line)
        if key.endswith("_timeout") and not _DURATION.match(value):
            raise DirectiveError(f"toolkit:{key}={value!r} is not a duration like 5s, 2min or 500ms", line)
        if key in ("environments", "allow") and not _items(value):
            raise DirectiveError(f"toolkit:{key} needs a comma-separated list", line)
        unknown = [rule for rule in _items(value) if rule not in RULES] if key == "allow" else []
        if unknown:
            raise DirectiveError(
                f"toolkit:allow names unknown rule(s) {', '.join(unknown)} (known: {', '.join(RULES)})", line
            )
        values[key] = value
    return Directives(
        transactional=values.get("transaction", "true") == "true",
        environments=_items(values["environments"]) if "environments" in values else None,
        allow=frozenset(_items(values.get("allow", ""))),
        lock_timeout=values.get("lock_timeout"),
        statement_timeout=values.get("statement_timeout"),
    )


def _items(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())
