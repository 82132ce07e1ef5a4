"""Flyway's `repair` and `baseline` on a MySQL history table, each under the GET_LOCK migration lock."""

from __future__ import annotations

from toolkit.errors import MigrationFailed
from toolkit.migrations.discovery import Version
from toolkit.migrations.mysql_apply import migration_lock
from toolkit.migrations.mysql_history import MySQLHistoryTable
from toolkit.migrations.repair import BASELINE_DESCRIPTION
from toolkit.migrations.source import LoadedMigrations


def repair(conn, history: MySQLHistoryTable, migrations: LoadedMigrations, lock_timeout_seconds: float):
    """(scripts of the failed rows removed, scripts whose checksum was realigned), in one transaction
    (the history table is InnoDB, so its rows are transactional even though DDL is not)."""
    with migration_lock(conn, history, lock_timeout_seconds), conn.cursor() as cur:
        history.create(cur)
        by_version = {m.file.version: m for m in migrations.versioned}
        realigned = []
        conn.begin()
        try:
            removed = history.delete_failed(cur)
            for row in history.applied(cur):
                source = by_version.get(row.version) if row.version is not None else None
                if source and row.type == "SQL" and row.success and row.checksum != source.checksum:
                    history.realign(
                        cur, row.installed_rank, checksum=source.checksum, description=source.file.description
                    )
                    realigned.append(row.script)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return tuple(removed), tuple(realigned)


def baseline(
    conn,
    history: MySQLHistoryTable,
    version: Version,
    lock_timeout_seconds: float,
    *,
    where: str,
    description: str = BASELINE_DESCRIPTION,
) -> None:
    """Record `version` as the baseline of a database no migration has touched yet."""
    with migration_lock(conn, history, lock_timeout_seconds), conn.cursor() as cur:
        history.create(cur)
        if any(row.type != "SCHEMA" for row in history.rows(cur)):
            raise MigrationFailed(
                f"{history.name} in {where} already has rows; a baseline is only for a database "
                "that no migration has touched yet",
                hint="see `toolkit db status`",
            )
        history.record(
            cur,
            version=version,
            description=description,
            type_="BASELINE",
            script=description,
            checksum=None,
            execution_ms=0,
            success=True,
        )
