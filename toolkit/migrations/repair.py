"""Flyway's `repair` and `baseline` on the history table, each under the migration lock.

Repair removes failed rows and realigns the checksums and descriptions of applied files with the files
as they are now; baseline marks a database no migration has touched as being at a version already.
"""

from __future__ import annotations

from toolkit.errors import MigrationFailed, UsageError
from toolkit.migrations import bookkeeping
from toolkit.migrations.apply import migration_lock
from toolkit.migrations.discovery import VERSION_MAX, Version
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.source import LoadedMigrations

BASELINE_DESCRIPTION = "<< Flyway Baseline >>"


def repair(conn, history: HistoryTable, migrations: LoadedMigrations, lock_timeout_seconds: float):
    """(scripts of the failed rows removed, scripts whose checksum was realigned), in one transaction."""
    with migration_lock(conn, history, lock_timeout_seconds), conn.cursor() as cur:
        by_version = {m.file.version: m for m in migrations.versioned}
        realigned = []
        bookkeeping.ensure(cur, history)
        cur.execute("BEGIN")
        removed = history.delete_failed(cur)
        # Only what the database has now: a run Flyway undid or a DELETE row removed is history,
        # and an undo row's checksum is its U file's, never the V file's.
        for row in history.applied(cur):
            source = by_version.get(row.version) if row.version is not None else None
            if source and row.type == "SQL" and row.success and row.checksum != source.checksum:
                history.realign(cur, row.installed_rank, checksum=source.checksum, description=source.file.description)
                realigned.append(row.script)
        cur.execute("COMMIT")
    return tuple(removed), tuple(realigned)


def parse_baseline_version(text: str) -> Version:
    """The version a baseline records, or a UsageError saying why it cannot be one."""
    try:
        parsed = Version.parse(text)
    except ValueError as exc:
        raise UsageError(f"--version: {exc}") from None
    if len(parsed.text) > VERSION_MAX:
        raise UsageError(f"--version: {text!r} is longer than the {VERSION_MAX} characters the history table holds")
    return parsed


def baseline(
    conn,
    history: HistoryTable,
    version: Version,
    lock_timeout_seconds: float,
    *,
    where: str,
    description: str = BASELINE_DESCRIPTION,
) -> None:
    """Record `version` as the baseline of an untouched database (`where` names it in the refusal)."""
    with migration_lock(conn, history, lock_timeout_seconds), conn.cursor() as cur:
        bookkeeping.ensure(cur, history)
        # Flyway's SCHEMA row only says it created the schema: such a database is still untouched.
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
