"""What a MySQL statement does to the transaction around it: the statements that commit implicitly (MySQL's
"Statements That Cause an Implicit Commit") and the ones that change rows (DML). Apply and lint share it."""

from __future__ import annotations

import re

from toolkit.migrations.mysql_split import split_mysql
from toolkit.migrations.source import MigrationSource
from toolkit.migrations.sqlsplit import Statement

_LEADING = re.compile(r"^(?:\s|/\*!\d*|\*/)+")
_IMPLICIT_COMMIT = re.compile(
    r"^(?:CREATE|ALTER|DROP|RENAME|TRUNCATE|GRANT|REVOKE|LOCK\s+TABLES?|UNLOCK\s+TABLES?|ANALYZE|OPTIMIZE|"
    r"REPAIR|CHECK\s+TABLE|CACHE\s+INDEX|LOAD\s+INDEX|FLUSH|RESET|INSTALL|UNINSTALL|SET\s+PASSWORD|"
    r"BEGIN|START\s+TRANSACTION|COMMIT)\b",
    re.I,
)
_TEMPORARY = re.compile(r"^(?:CREATE|DROP)\s+TEMPORARY\s+TABLE\b", re.I)
_DML = re.compile(r"^(?:INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA|LOAD\s+XML|CALL)\b", re.I)
_WITH_DML = re.compile(r"^WITH\b.*\b(?:UPDATE|DELETE|INSERT)\b", re.I | re.S)


def _head(sql: str) -> str:
    return _LEADING.sub("", sql, count=1)


def commits_implicitly(sql: str) -> bool:
    """DDL and the other statements after which nothing before them can be rolled back."""
    head = _head(sql)
    return bool(_IMPLICIT_COMMIT.match(head)) and not _TEMPORARY.match(head)


def changes_rows(sql: str) -> bool:
    head = _head(sql)
    return bool(_DML.match(head) or _WITH_DML.match(head))


class MySQLSource(MigrationSource):
    """A migration file read once, split by MySQL's rules (DELIMITER, #, backquotes, backslash escapes)."""

    __slots__ = ()
    postgres_checks = False

    @staticmethod
    def _split(text: str) -> list[Statement]:
        return split_mysql(text)


def as_mysql(source: MigrationSource) -> MySQLSource:
    if isinstance(source, MySQLSource):
        return source
    # the text as held (None until read, when the checksums came from the known-files cache): read lazily
    text = source._text  # noqa: SLF001 - the same class's state, kept lazy
    return MySQLSource(source.file, text, source.checksum, source.directives, source.sha256)


def script_sql(statements: list[str]) -> str:
    """The statements as a mysql script that runs them exactly: one with a `;` inside (a procedure's
    body) between DELIMITER lines."""
    out = []
    for sql in statements:
        if ";" not in sql:
            out.append(f"{sql};\n")
            continue
        delimiter = next(d for d in ("$$", "//", "$$$", ";;", "@@@@") if d not in sql)
        out.append(f"DELIMITER {delimiter}\n{sql}{delimiter}\nDELIMITER ;\n")
    return "".join(out)
