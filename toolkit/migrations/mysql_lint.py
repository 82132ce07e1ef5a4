"""The lint on MySQL migrations: what loses data, copies a table or blocks writes, and a file that mixes DDL
with row changes (MySQL commits the DDL implicitly, so a failure half way cannot be rolled back).

Statements come from the MySQL splitter and are read by their keywords (no MySQL parser ships for
Python); findings, severities and `toolkit:allow=` work as in lint.py. A statement on a table created
earlier in the same file is not a finding: that table has no rows and no readers yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.migrations.lint import LintFinding, LintPolicy, _neutral, allow_hint
from toolkit.migrations.mysql_statements import as_mysql, changes_rows, commits_implicitly
from toolkit.migrations.rules import RULES
from toolkit.migrations.source import MigrationSource
from toolkit.migrations.sqlsplit import SplitError

_NAME = r"(?:`(?:[^`]|``)+`|[\w$]+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[\w$]+))?"
_CREATE = re.compile(rf"^CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?({_NAME})", re.I)
_ALTER = re.compile(rf"^ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+(?:IF\s+EXISTS\s+)?({_NAME})(.*)$", re.I | re.S)
_INDEX = re.compile(rf"^CREATE\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\s+\S+\s+ON\s+({_NAME})(.*)$", re.I | re.S)
_DROP = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({_NAME}(?:\s*,\s*{_NAME})*)", re.I)
_TRUNCATE = re.compile(rf"^TRUNCATE\s+(?:TABLE\s+)?({_NAME})", re.I)
_RENAME_TABLE = re.compile(rf"^RENAME\s+TABLES?\s+({_NAME})", re.I)
_DROP_COLUMN = re.compile(
    r"\bDROP\s+(?!INDEX\b|KEY\b|PRIMARY\b|FOREIGN\b|CONSTRAINT\b|CHECK\b|PARTITION\b|SYSTEM\b)(?:COLUMN\s+)?"
    r"(?:IF\s+EXISTS\s+)?(`(?:[^`]|``)+`|[\w$]+)",
    re.I,
)
_COPIES = re.compile(
    r"\b(?:MODIFY|CHANGE)\b|\bCONVERT\s+TO\s+(?:CHARACTER\s+SET|CHARSET)\b|\bALGORITHM\s*=?\s*COPY\b", re.I
)
_RENAME = re.compile(r"\bRENAME\b", re.I)
_ALGORITHM = re.compile(r"\bALGORITHM\s*=?\s*(?:INSTANT|INPLACE|NOCOPY)\b", re.I)
_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"", re.S)


def _key(name: str) -> str:
    """The table a name means, as written (MySQL's case rules depend on the server: compared as written)."""
    return name.split(".")[-1].strip().strip("`").lower()


def lint_mysql(sources: Iterable[MigrationSource], *, policy: LintPolicy | None = None) -> list[LintFinding]:
    """Findings for these files, each judged on its own."""
    policy = policy or LintPolicy()
    findings: list[LintFinding] = []
    for source in sources:
        source = as_mysql(source)
        try:
            statements = source.statements
        except SplitError as exc:
            findings.append(LintFinding(source.script, exc.line, "syntax", str(exc), False))
            continue
        created: set[str] = set()
        first_ddl = first_dml = None
        for statement in statements:
            sql = _neutral(statement.sql)
            if commits_implicitly(sql) and first_ddl is None:
                first_ddl = statement.line
            if changes_rows(sql) and first_dml is None:
                first_dml = statement.line
            for rule, detail in _check(_STRING.sub("''", sql), created):
                message = f"{detail}: {RULES[rule]}"
                allowed = policy.allows(source, rule)
                findings.append(
                    LintFinding(
                        source.script, statement.line, rule, message, allowed, policy.severity.get(rule, "error")
                    )
                )
        if first_ddl is not None and first_dml is not None:
            detail = f"DDL (line {first_ddl}) and row changes (line {first_dml}) in one file"
            findings.append(
                LintFinding(
                    source.script,
                    max(first_ddl, first_dml),
                    "mixed-ddl-dml",
                    f"{detail}: {RULES['mixed-ddl-dml']}",
                    policy.allows(source, "mixed-ddl-dml"),
                    policy.severity.get("mixed-ddl-dml", "error"),
                )
            )
    return findings


def _check(sql: str, created: set[str]) -> Iterable[tuple[str, str]]:
    if found := _CREATE.match(sql):
        if not found[1]:
            created.add(_key(found[2]))
    elif found := _DROP.match(sql):
        names = [n for n in re.split(r"\s*,\s*", found[1]) if _key(n) not in created]
        if names:
            yield "drop-table", f"DROP TABLE {', '.join(names)}"
    elif (found := _TRUNCATE.match(sql)) and _key(found[1]) not in created:
        yield "truncate", f"TRUNCATE {found[1]}"
    elif (found := _RENAME_TABLE.match(sql)) and _key(found[1]) not in created:
        yield "rename", f"RENAME TABLE {found[1]}"
    elif (found := _INDEX.match(sql)) and _key(found[1]) not in created:
        if not _ALGORITHM.search(found[2]):
            yield "algorithm", f"CREATE INDEX on {found[1]} without ALGORITHM=INPLACE"
    elif (found := _ALTER.match(sql)) and _key(found[1]) not in created:
        table, body = found[1], found[2]
        for column in _DROP_COLUMN.findall(body):
            yield "drop-column", f"DROP COLUMN {table}.{column.strip('`')}"
        if _RENAME.search(body):
            yield "rename", f"ALTER TABLE {table} RENAME"
        if _COPIES.search(body):
            yield "table-copy", f"ALTER TABLE {table} changes a column (MODIFY/CHANGE) or asks for a copy"
        elif not _ALGORITHM.search(body):
            yield "algorithm", f"ALTER TABLE {table} without ALGORITHM=INSTANT or INPLACE"


def refusals(sources: Iterable[MigrationSource], *, policy: LintPolicy | None = None) -> list[str]:
    """Problems that stop `migrate`: findings on the pending files that are not allowed."""
    return [f"{f}; {allow_hint(f)}" for f in lint_mysql(sources, policy=policy) if f.refused]
