"""Apply pending migrations on one connection, under a session-level advisory lock.

The lock is a PostgreSQL advisory lock, never a row: if the process dies, the server drops the lock
with the session. Planning happens under the lock, so two concurrent runs never apply one migration
twice: the second waits, then finds nothing pending.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from toolkit.errors import DatabaseError, MigrationFailed, ValidationFailed
from toolkit.migrations.discovery import MigrationSet
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.plan import MigrationPlan, PendingMigration, plan_migrations

log = logging.getLogger(__name__)

EventSink = Callable[[str], None]


@dataclass(frozen=True)
class AppliedStep:
    script: str
    version: str
    milliseconds: int


@dataclass(frozen=True)
class MigrateResult:
    applied: tuple[AppliedStep, ...]
    already_applied: int


def lock_key(history: HistoryTable) -> int:
    """A stable signed 64-bit key per history table, so two projects on one server do not collide."""
    return zlib.crc32(f"toolkit:{history.schema}.{history.table}".encode())


@contextmanager
def migration_lock(conn, history: HistoryTable, timeout_seconds: float) -> Iterator[None]:
    key = lock_key(history)
    deadline = time.monotonic() + timeout_seconds
    delay = 0.05
    with conn.cursor() as cur:
        while True:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))
            if cur.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise DatabaseError(
                    f"another migration run holds the lock on {history.name} (advisory lock {key}) "
                    f"and did not finish within {timeout_seconds:.0f}s",
                    hint="wait for it, or raise [migrations].lock_timeout_seconds; a killed run "
                    "releases the lock when its connection closes",
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        yield
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (key,))


def current_plan(conn, migrations: MigrationSet, history: HistoryTable) -> MigrationPlan:
    with conn.cursor() as cur:
        return plan_migrations(migrations, history.applied(cur))


def migrate(
    conn,
    migrations: MigrationSet,
    history: HistoryTable,
    *,
    lock_timeout_seconds: float = 60.0,
    on_event: EventSink | None = None,
) -> MigrateResult:
    """Apply every pending versioned migration in order, each in its own transaction."""
    conn.autocommit = True
    with migration_lock(conn, history, lock_timeout_seconds):
        with conn.cursor() as cur:
            history.create(cur)
        plan = current_plan(conn, migrations, history)
        if not plan.ok:
            raise ValidationFailed("migrations cannot run:", list(plan.problems))
        done: list[AppliedStep] = []
        for step in plan.pending:
            if on_event:
                on_event(f"applying {step.file.script}")
            done.append(_apply_one(conn, step, history))
        return MigrateResult(applied=tuple(done), already_applied=plan.applied)


def _apply_one(conn, step: PendingMigration, history: HistoryTable) -> AppliedStep:
    import psycopg2

    started = time.monotonic()
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute(step.sql)
            elapsed = int((time.monotonic() - started) * 1000)
            history.record(
                cur,
                version=step.file.version,
                description=step.file.description,
                type_=step.file.type_code,
                script=step.file.script,
                checksum=step.checksum,
                execution_ms=elapsed,
                success=True,
            )
            cur.execute("COMMIT")
        except psycopg2.Error as exc:
            cur.execute("ROLLBACK")
            raise MigrationFailed(
                _describe_failure(step, exc),
                hint="fix the migration and run again; it was rolled back and nothing of it was applied",
            ) from None
    return AppliedStep(script=step.file.script, version=str(step.file.version), milliseconds=elapsed)


def _describe_failure(step: PendingMigration, exc) -> str:
    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc)).strip()
    position = getattr(diag, "statement_position", None)
    where = step.file.script
    if position:
        line = step.sql.count("\n", 0, int(position) - 1) + 1
        where = f"{where}:{line}"
    detail = getattr(diag, "message_detail", None)
    code = getattr(exc, "pgcode", None)
    return (
        f"{where}: migration {step.file.version} failed: {message}"
        + (f" ({detail})" if detail else "")
        + (f" [SQLSTATE {code}]" if code else "")
    )
