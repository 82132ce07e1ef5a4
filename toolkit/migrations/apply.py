"""Apply pending migrations on one connection, under a session-level advisory lock.

The lock is a PostgreSQL advisory lock, never a row: if the process dies, the server drops the lock
with the session. Planning happens under the lock, so two concurrent runs never apply one migration
twice: the second waits, then finds nothing pending. Statements run one by one so an error names its
line; a transactional file runs in one transaction with lock_timeout/statement_timeout set locally.
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from toolkit.errors import DatabaseError, MigrationFailed, ValidationFailed
from toolkit.migrations import bookkeeping
from toolkit.migrations.discovery import MigrationSet
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.placeholders import Placeholders
from toolkit.migrations.plan import MigrationPlan, PendingMigration, plan_migrations
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.migrations.sqlsplit import Statement, line_of

log = logging.getLogger(__name__)

EventSink = Callable[[str], None]
# A killed client is noticed by the server within this interval even mid-statement (PostgreSQL >= 14),
# so its transaction rolls back and its advisory lock goes away promptly.
CLIENT_CHECK_INTERVAL = "1s"


def session_reset(server_version: int) -> bytes:
    """SQL that gives the next migration the session this run started with, as Flyway restores it.

    A plain SET (search_path, work_mem, ...) or SET ROLE in a committed file outlives it: the next file
    would create its tables in another schema, or run (and be recorded in installed_by) as another role.
    RESET ALL leaves the role, the session authorization and the advisory lock alone, so those two are
    reset by name; it does reset what this run set for the whole session, which is set again: the
    client check that lets the server notice a killed run, and psycopg2's ISO DateStyle. Temporary
    tables and prepared statements are left as they are (Flyway leaves them too)."""
    sql = "RESET ALL; RESET SESSION AUTHORIZATION; RESET ROLE; SET DateStyle TO ISO; "
    if server_version >= 140000:
        sql += f"SET client_connection_check_interval TO '{CLIENT_CHECK_INTERVAL}'; "
    return sql.encode()


@dataclass(frozen=True)
class AppliedStep:
    script: str
    version: str
    milliseconds: int


@dataclass(frozen=True)
class DryRunStep:
    script: str
    version: str | None
    reason: str
    transactional: bool
    sql: str  # exactly what would run, sensitive placeholder values masked


@dataclass(frozen=True)
class MigrateResult:
    applied: tuple[AppliedStep, ...]
    already_applied: int
    would_apply: tuple[DryRunStep, ...] = ()  # --dry-run only
    dry_run: bool = False


@contextmanager
def database_errors(what: str) -> Iterator[None]:
    """PostgreSQL errors outside a migration's statements (bookkeeping, history, lock): DatabaseError."""
    import psycopg2

    try:
        yield
    except psycopg2.Error as exc:
        diag = getattr(exc, "diag", None)
        message = (getattr(diag, "message_primary", None) or str(exc)).strip()
        raise DatabaseError(
            f"{what}: {message}", hint="check that the login role may create and write the history table"
        ) from None


def lock_key(history: HistoryTable) -> int:
    """A stable key per history table, so two projects on one server do not collide."""
    return zlib.crc32(f"toolkit:{history.schema}.{history.table}".encode())


@contextmanager
def migration_lock(conn, history: HistoryTable, timeout_seconds: float) -> Iterator[None]:
    """Retrying try-lock: a waiting run never sits in a lock queue that a DBA cannot see through."""
    key = lock_key(history)
    deadline = time.monotonic() + timeout_seconds
    delay = 0.05
    with conn.cursor() as cur:
        if conn.server_version >= 140000:
            cur.execute("SELECT set_config('client_connection_check_interval', %s, false)", (CLIENT_CHECK_INTERVAL,))
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
        if not conn.closed:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))


def current_plan(conn, migrations: MigrationSet | LoadedMigrations, history: HistoryTable, **options) -> MigrationPlan:
    """The plan against this database (options: environment, out_of_order, placeholders)."""
    with conn.cursor() as cur:
        applied = history.applied(cur)
    return plan_migrations(load(migrations), applied, server_version=conn.server_version, **options)


def migrate(
    conn,
    migrations: MigrationSet | LoadedMigrations,
    history: HistoryTable,
    *,
    lock_timeout_seconds: float = 60.0,
    on_event: EventSink | None = None,
    environment: str | None = None,
    placeholders: Placeholders | None = None,
    out_of_order: bool = False,
    lock_timeout: str = "10s",
    statement_timeout: str = "0",
    dry_run: bool = False,
    lint: bool = True,
) -> MigrateResult:
    """Apply every pending versioned migration in order, then changed repeatables, each on its own."""
    conn.autocommit = True
    loaded = load(migrations)
    with (
        database_errors(f"migrating with {history.name}"),
        migration_lock(conn, history, lock_timeout_seconds),
    ):
        if not dry_run:
            with conn.cursor() as cur:
                bookkeeping.ensure(cur, history)
        plan = current_plan(
            conn,
            loaded,
            history,
            environment=environment,
            out_of_order=out_of_order,
            placeholders=placeholders,
        )
        problems = list(plan.problems)
        if lint and plan.pending:
            from toolkit.migrations.lint import refusals

            problems.extend(refusals(plan.pending, history.schema))
        if problems:
            raise ValidationFailed("migrations cannot run; nothing was applied:", problems)
        if dry_run:
            return MigrateResult((), plan.applied, tuple(_dry_step(p) for p in plan.pending), dry_run=True)
        done: list[AppliedStep] = []
        reset = session_reset(conn.server_version)
        for step in plan.pending:
            if on_event:
                on_event(f"applying {step.file.script}")
            timeouts = (
                step.source.directives.lock_timeout or lock_timeout,
                step.source.directives.statement_timeout or statement_timeout,
            )
            done.append(_apply_one(conn, step, history, timeouts, reset))
        return MigrateResult(applied=tuple(done), already_applied=plan.applied)


def _dry_step(step: PendingMigration) -> DryRunStep:
    sql = "".join(f"{text};\n" for text in step.shown)
    version = str(step.file.version) if step.file.version else None
    return DryRunStep(step.file.script, version, step.reason, step.source.directives.transactional, sql)


def _apply_one(
    conn, step: PendingMigration, history: HistoryTable, timeouts: tuple[str, str], reset: bytes
) -> AppliedStep:
    import psycopg2

    transactional = step.source.directives.transactional
    started = time.monotonic()
    current: Statement | None = None
    restored = False
    with conn.cursor() as cur:
        try:
            # Bookkeeping shares round trips with the migration (BEGIN with the timeouts; the session
            # reset, the history row and COMMIT together): per file, as many round trips as psql
            # running the same statements. The reset comes before the history row, so installed_by is
            # the run's own user even when the file ran SET ROLE.
            settings = cur.mogrify(
                "SELECT set_config('lock_timeout', %s, %s), set_config('statement_timeout', %s, %s)",
                (timeouts[0], transactional, timeouts[1], transactional),
            )
            cur.execute(b"BEGIN; " + settings if transactional else settings)
            for current in step.statements:
                cur.execute(current.sql)
            current = None  # a failure from here on is the bookkeeping's, not a statement's
            elapsed = int((time.monotonic() - started) * 1000)
            _record(cur, history, step, elapsed, success=True, commit=transactional, first=reset)
            restored = True
        except psycopg2.Error as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            message = _describe_failure(step, current, exc)
            if transactional:
                with suppress(psycopg2.Error):  # a dead connection has rolled back already
                    cur.execute("ROLLBACK")
                raise MigrationFailed(
                    message,
                    hint="fix the migration and run again; it was rolled back and nothing of it was applied",
                ) from None
            try:
                _record(cur, history, step, elapsed, success=False, first=reset)
                restored = True
                recorded = "it is recorded as failed and blocks further runs"
            except psycopg2.Error:
                recorded = "recording it as failed did not work either (connection lost?)"
            raise MigrationFailed(
                message,
                hint="this file runs outside a transaction (toolkit:transaction=false), so statements "
                f"before the failing one stay applied; {recorded}: finish or undo it by hand, then run "
                "`toolkit db repair ENV`",
            ) from None
        finally:
            # A rolled-back file left nothing behind; a file outside a transaction whose history row
            # could not be written still needs its settings undone.
            if not transactional and not restored and not conn.closed:
                with suppress(psycopg2.Error):
                    cur.execute(reset)
    version = str(step.file.version) if step.file.version else ""
    return AppliedStep(script=step.file.script, version=version, milliseconds=elapsed)


def _record(
    cur,
    history: HistoryTable,
    step: PendingMigration,
    elapsed: int,
    *,
    success: bool,
    commit: bool = False,
    first: bytes = b"",
) -> None:
    history.record(
        cur,
        commit=commit,
        first=first,
        version=step.file.version,
        description=step.file.description,
        type_=step.file.type_code,
        script=step.file.script,
        checksum=step.checksum,
        execution_ms=elapsed,
        success=success,
    )


_DO_BODY = re.compile(r"DO\b(?:\s+LANGUAGE\s+\S+)?\s+(?:\$[A-Za-z_]*\$|[Ee]?')", re.I)
_DO_LINE = re.compile(r"inline_code_block line (\d+)")


def _describe_failure(step: PendingMigration, statement: Statement | None, exc) -> str:
    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc)).strip()
    position = getattr(diag, "statement_position", None)
    context = " ".join((getattr(diag, "context", None) or "").split())  # PL/pgSQL's call stack, one line
    where = step.file.script
    if statement is not None:
        line = line_of(statement, int(position)) if position else statement.line
        where = f"{where}:{_do_block_line(statement, context) or line}"
    detail = getattr(diag, "message_detail", None)
    code = getattr(exc, "pgcode", None)
    what = f"migration {step.file.version}" if step.file.version else "repeatable migration"
    return (
        f"{where}: {what} failed: {message}"
        + (f" ({detail})" if detail else "")
        + (f" (context: {context})" if context else "")
        + (f" [SQLSTATE {code}]" if code else "")
    )


def _do_block_line(statement: Statement, context: str) -> int | None:
    """The file line of an error inside a DO block: PostgreSQL numbers the block's lines from the one
    its body opens on ("PL/pgSQL function inline_code_block line 4 at RAISE")."""
    opening = _DO_BODY.match(statement.sql)
    found = _DO_LINE.findall(context) if opening else []
    if not found:
        return None
    return line_of(statement, opening.end()) + int(found[-1]) - 1  # the outermost frame is the block
