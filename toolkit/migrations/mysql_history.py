"""Flyway's schema history table on MySQL: the layout Flyway's MySQL support creates (backquoted names, INT,
BOOL, `installed_on TIMESTAMP DEFAULT CURRENT_TIMESTAMP`, the `_pk` key and the `_s_idx` index), read and
written with the same rows as on PostgreSQL, so a database Flyway migrated is taken over as it is.

On MySQL a schema is a database: the table lives in the target's database unless another is named.
"""

from __future__ import annotations

from toolkit.errors import DatabaseError
from toolkit.migrations.bookkeeping import FLYWAY_COLUMNS
from toolkit.migrations.discovery import Version
from toolkit.migrations.history import AppliedMigration, effective


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def flyway_ddl(schema: str, table: str) -> list[str]:
    """The statements Flyway runs to create its history table on MySQL (its createMetaDataTable.sql)."""
    return [
        f"""CREATE TABLE {quote(schema)}.{quote(table)} (
    `installed_rank` INT NOT NULL,
    `version` VARCHAR(50),
    `description` VARCHAR(200) NOT NULL,
    `type` VARCHAR(20) NOT NULL,
    `script` VARCHAR(1000) NOT NULL,
    `checksum` INT,
    `installed_by` VARCHAR(100) NOT NULL,
    `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    `execution_time` INT NOT NULL,
    `success` BOOL NOT NULL,
    CONSTRAINT {quote(table + "_pk")} PRIMARY KEY (`installed_rank`)
) ENGINE=InnoDB""",
        f"CREATE INDEX {quote(table + '_s_idx')} ON {quote(schema)}.{quote(table)} (`success`)",
    ]


class MySQLHistoryTable:
    """The same interface as `history.HistoryTable`, on a PyMySQL cursor."""

    engine = "mysql"

    def __init__(self, schema: str, table: str) -> None:
        self.schema = schema
        self.table = table
        self.name = f"{quote(schema)}.{quote(table)}"

    def exists(self, cur) -> bool:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (self.schema, self.table),
        )
        return bool(cur.fetchone()[0])

    def create(self, cur) -> None:
        """Create the table as Flyway would, or check that the one there is Flyway's."""
        if self.exists(cur):
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (self.schema, self.table),
            )
            missing = FLYWAY_COLUMNS - {str(name).lower() for (name,) in cur.fetchall()}
            if missing:
                raise DatabaseError(
                    f"{self.name} exists but is not a Flyway schema history table "
                    f"(no column {', '.join(sorted(missing))})",
                    hint="set [migrations].history_table in toolkit.toml to another name",
                )
            return
        for statement in flyway_ddl(self.schema, self.table):
            cur.execute(statement)

    def rows(self, cur) -> list[AppliedMigration]:
        if not self.exists(cur):
            return []
        cur.execute(f"""SELECT installed_rank, version, description, type, script, checksum,
                               installed_by, installed_on, execution_time, success
                        FROM {self.name} ORDER BY installed_rank""")
        out = []
        for rank, version, description, type_, script, checksum, by, on, ms, success in cur.fetchall():
            parsed = self._version(rank, version, script) if version else None
            out.append(AppliedMigration(rank, parsed, description, type_, script, checksum, by, on, ms, bool(success)))
        return out

    def _version(self, rank: int, text: str, script: str) -> Version:
        try:
            return Version.parse(text)
        except ValueError:
            raise DatabaseError(
                f"{self.name} row {rank} ({script}) has version {text!r}, which is not a version; "
                "toolkit cannot tell what is applied",
                hint=f"correct its version (UPDATE {self.name} SET version = '…' WHERE installed_rank = {rank}) "
                "or delete the row, and run again",
            ) from None

    def applied(self, cur) -> list[AppliedMigration]:
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
        rank: int | None = None,
    ) -> None:
        """Add one row, installed_by as Flyway writes it on MySQL (the user part of USER()).

        `rank`: given by a run that holds the migration lock and counts from `last_rank` (a plain VALUES
        insert: InnoDB's INSERT … SELECT MAX over the same table also locks the index it reads); a row
        written meanwhile by something not holding the lock makes the primary key refuse this one.
        Without it (repair, a failed file's row), the next rank is the table's."""
        values = (str(version) if version else None, description[:200], type_, script, checksum, execution_ms, success)
        columns = "installed_rank, version, description, type, script, checksum, installed_by, execution_time, success"
        user = "SUBSTRING_INDEX(USER(), '@', 1)"
        if rank is None:
            cur.execute(
                f"""INSERT INTO {self.name} ({columns})
                    SELECT COALESCE(MAX(installed_rank), 0) + 1, %s, %s, %s, %s, %s, {user}, %s, %s
                    FROM {self.name}""",
                values,
            )
        else:
            cur.execute(
                f"INSERT INTO {self.name} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, {user}, %s, %s)",
                (rank, *values),
            )

    def last_rank(self, cur) -> int:
        """The highest installed_rank so far (0 for an empty table): where a locked run's rows count on."""
        cur.execute(f"SELECT COALESCE(MAX(installed_rank), 0) FROM {self.name}")
        return int(cur.fetchone()[0])

    def delete_failed(self, cur) -> list[str]:
        if not self.exists(cur):
            return []
        cur.execute(f"SELECT script FROM {self.name} WHERE NOT success ORDER BY installed_rank")
        scripts = [script for (script,) in cur.fetchall()]
        cur.execute(f"DELETE FROM {self.name} WHERE NOT success")
        return scripts

    def realign(self, cur, installed_rank: int, *, checksum: int, description: str) -> None:
        cur.execute(
            f"UPDATE {self.name} SET checksum = %s, description = %s WHERE installed_rank = %s",
            (checksum, description[:200], installed_rank),
        )
