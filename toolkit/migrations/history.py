"""The schema history table, in Flyway's layout, so a Flyway-managed database is taken over as it is."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

from toolkit.errors import DatabaseError
from toolkit.migrations.discovery import Version


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    installed_rank: int
    version: Version | None
    description: str
    type: str
    script: str
    checksum: int | None
    installed_by: str
    installed_on: datetime
    execution_time: int
    success: bool


UNDO_TYPES = frozenset({"UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT"})
# `db baseline` writes BASELINE; Flyway's baseline migrations (B<version>__…) write SQL_BASELINE (JDBC_ and
# SCRIPT_ for Java and script ones): each says the database is at that version, files up to it never run.
BASELINE_TYPES = frozenset({"BASELINE", "SQL_BASELINE", "JDBC_BASELINE", "SCRIPT_BASELINE"})


def effective(rows: list[AppliedMigration]) -> list[AppliedMigration]:
    """The rows that say what the database has now, in rank order, read as Flyway reads its history.

    A SCHEMA row only records that Flyway created a schema. A successful undo row (UNDO_SQL, …) means
    Flyway undid the latest run of its version, which is pending again. A successful DELETE row is
    Flyway 9+'s `repair` of a migration whose file went missing: it removes the latest run of its version
    (or every run of a repeatable, which then runs again, as in Flyway). A failed undo row stays, so it
    blocks the run until `db repair` like any failed migration. One pass: fine for 10,000 rows.
    """
    kept: list[AppliedMigration | None] = []
    runs: dict[object, list[int]] = {}  # version, or description of a repeatable -> indexes into kept
    for row in rows:
        if row.type == "SCHEMA" or (row.type == "DELETE" and not row.success):
            continue
        key = row.version if row.version is not None else ("repeatable", row.description)
        if row.success and (row.type in UNDO_TYPES or row.type == "DELETE"):
            earlier = runs.get(key, [])
            undone = earlier if row.version is None else earlier[-1:]
            for index in undone:
                kept[index] = None
            del earlier[len(earlier) - len(undone) :]
            continue
        if row.type not in BASELINE_TYPES:
            runs.setdefault(key, []).append(len(kept))
        kept.append(row)
    return [row for row in kept if row is not None]


def _quoted(schema: str, table: str) -> str:
    return f'"{schema}"."{table}"'


class HistoryTable:
    """Reads and writes one history table; every call takes an open psycopg2 cursor."""

    def __init__(self, schema: str, table: str) -> None:
        self.schema = schema
        self.table = table
        self.name = _quoted(schema, table)

    def exists(self, cur) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (self.name,))
        return bool(cur.fetchone()[0])

    def create(self, cur) -> None:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        cur.execute(f"""
            CREATE TABLE IF NOT EXISTS {self.name} (
                installed_rank INT NOT NULL,
                version VARCHAR(50),
                description VARCHAR(200) NOT NULL,
                type VARCHAR(20) NOT NULL,
                script VARCHAR(1000) NOT NULL,
                checksum INT,
                installed_by VARCHAR(100) NOT NULL,
                installed_on TIMESTAMP NOT NULL DEFAULT now(),
                execution_time INT NOT NULL,
                success BOOLEAN NOT NULL,
                CONSTRAINT "{self.table}_pk" PRIMARY KEY (installed_rank)
            )""")
        cur.execute(f'CREATE INDEX IF NOT EXISTS "{self.table}_s_idx" ON {self.name} (success)')

    def rows(self, cur) -> list[AppliedMigration]:
        """Every row as it is, in rank order (undo, DELETE and SCHEMA rows included)."""
        if not self.exists(cur):
            return []
        cur.execute(f"""SELECT installed_rank, version, description, type, script, checksum,
                               installed_by, installed_on, execution_time, success
                        FROM {self.name} ORDER BY installed_rank""")
        return [
            AppliedMigration(rank, self._version(rank, version, rest[2]) if version else None, *rest)
            for rank, version, *rest in cur.fetchall()
        ]

    def _version(self, rank: int, text: str, script: str) -> Version:
        try:
            return Version.parse(text)
        except ValueError:
            raise DatabaseError(
                f"{self.name} row {rank} ({script}) has version {text!r}, which is not a version "
                "(digits separated by '.'); toolkit cannot tell what is applied",
                hint=f"find out what that row's migration did, then correct its version (UPDATE {self.name} "
                f"SET version = '…' WHERE installed_rank = {rank}) or delete the row, and run again",
            ) from None

    def applied(self, cur) -> list[AppliedMigration]:
        """The rows that say what the database has now (see `effective`): what planning reads."""
        return effective(self.rows(cur))

    def record(
        self,
        cur,
        *,
        version: Version | None,
        description: str,
        type_: str,
        script: str,
        checksum: int | None,
        execution_ms: int,
        success: bool,
        commit: bool = False,
        first: bytes = b"",
        rank: int | None = None,
    ) -> None:
        """Add one row; with `commit`, the open transaction is committed in the same round trip, and
        `first` (SQL) runs just before the row is written, in that round trip too.

        `rank`: the row's installed_rank, given by a run that holds the migration lock and counts from
        `last_rank`; the server then plans a plain VALUES insert, where the MAX over the table costs
        about 0.1 ms of planning per row (some 7 % of a 1,000-file run). A row written meanwhile by
        something that does not take the lock makes the primary key refuse this one, and its file's
        transaction rolls back with it. Without `rank` (repair), the next rank is the table's."""
        values = (str(version) if version else None, description[:200], type_, script, checksum, execution_ms)
        columns = "installed_rank, version, description, type, script, checksum, installed_by, execution_time, success"
        if rank is None:
            insert = cur.mogrify(
                f"""INSERT INTO {self.name} ({columns})
                    SELECT COALESCE(MAX(installed_rank), 0) + 1, %s, %s, %s, %s, %s, current_user, %s, %s
                    FROM {self.name}""",
                (*values, success),
            )
        else:
            insert = cur.mogrify(
                f"INSERT INTO {self.name} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, current_user, %s, %s)",
                (rank, *values, success),
            )
        cur.execute(first + insert + (b"; COMMIT" if commit else b""))

    def last_rank(self, cur) -> int:
        """The highest installed_rank so far (0 for an empty table): where a locked run's rows count on."""
        cur.execute(f"SELECT COALESCE(MAX(installed_rank), 0) FROM {self.name}")
        return int(cur.fetchone()[0])

    def mark_succeeded(self, cur, *, script: str, execution_ms: int, first: bytes = b"") -> None:
        """The latest row of `script` (written failed before a file outside a transaction started, so
        that a run stopped half-way leaves it failed, not missing) now says it succeeded."""
        update = cur.mogrify(
            f"""UPDATE {self.name} SET success = true, execution_time = %s
                WHERE installed_rank = (SELECT MAX(installed_rank) FROM {self.name} WHERE script = %s)""",
            (execution_ms, script),
        )
        cur.execute(first + update)

    def delete_failed(self, cur) -> list[str]:
        """Remove rows of failed runs (what `repair` does first); the scripts they named."""
        if not self.exists(cur):
            return []
        cur.execute(f"DELETE FROM {self.name} WHERE NOT success RETURNING script")
        return [script for (script,) in cur.fetchall()]

    def realign(self, cur, installed_rank: int, *, checksum: int, description: str) -> None:
        cur.execute(
            f"UPDATE {self.name} SET checksum = %s, description = %s WHERE installed_rank = %s",
            (checksum, description[:200], installed_rank),
        )


def lock_key(history: HistoryTable) -> int:
    """A stable key per history table, so two projects on one server do not collide."""
    return zlib.crc32(f"toolkit:{history.schema}.{history.table}".encode())
