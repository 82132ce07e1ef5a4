"""Apply pending migrations on one connection, under a session-level advisory lock.

The lock is a PostgreSQL advisory lock, never a row: if the process dies, the server drops the lock
with the session. Planning happens under the lock, so two concurrent runs never apply one migration
twice: the second waits, then finds nothing pending. Statements run one by one so an error names its
line; a transactional file runs in one transaction with lock_timeout/statement_timeout set locally.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING

from toolkit.adapters.postgres.connection import copy_in
from toolkit.errors import DatabaseError, GuardRefused, MigrationFailed, ValidationFailed
from toolkit.migrations import bookkeeping
from toolkit.migrations.discovery import MigrationSet
from toolkit.migrations.failures import describe_failure, partial_hint, transactional_hint
from toolkit.migrations.history import HistoryTable, lock_key
from toolkit.migrations.placeholders import Placeholders, fill
from toolkit.migrations.plan import MigrationPlan, PendingMigration, plan_migrations
from toolkit.migrations.results import AppliedStep, DryRunStep, MigrateResult
from toolkit.migrations.session import (
    CLIENT_CHECK_INTERVAL,
    SessionRisk,
    file_risk,
    session_reset,
    stored_code_may_change_session,
)
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.migrations.sqlsplit import Statement
from toolkit.support.log import get_logger

if TYPE_CHECKING:
    from toolkit.migrations.lint import LintPolicy

log = get_logger(__name__)

EventSink = Callable[[str], None]


def default_schema_first(cur, schema: str) -> tuple[bytes, bytes]:
    """Put [migrations].schema first in the session's search_path, as Flyway does before migrating (unless
    the path already starts with it): (the SQL that sets it again after each migration's reset, the SQL
    that gives the session its own path back when the run ends)."""
    cur.execute("SHOW search_path")
    original = cur.fetchone()[0]
    if schema == original or original.startswith(schema + ","):
        path = original
    else:
        path = f'"{schema}",{original}' if original.strip() else f'"{schema}"'
    again = cur.mogrify("SELECT set_config('search_path', %s, false); ", (path,))
    cur.execute(again)
    return again, cur.mogrify("SELECT set_config('search_path', %s, false)", (original,))


def refuse_unrecorded_schema(cur, history: HistoryTable, environment: str | None) -> None:
    """A schema that already holds tables (or views, sequences, functions) while the history table has no
    row was built without migrations: running V1 there would build it twice, so the run stops and says
    how to record what it has (Flyway refuses the same, "found non-empty schema but no history table")."""
    refusal = unrecorded_schema(cur, history, environment)
    if refusal is not None:
        raise refusal


def unrecorded_schema(cur, history: HistoryTable, environment: str | None) -> GuardRefused | None:
    """The refusal for a schema with objects and a history table without rows, or None."""
    if history.exists(cur):
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {history.name})")
        if cur.fetchone()[0]:
            return None
    cur.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
             AND c.relname NOT IN (%(history)s, %(meta)s)
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                             AND d.objid = c.oid AND d.deptype = 'e')
           UNION ALL
           SELECT p.proname || '()' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = %(schema)s
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                             AND d.objid = p.oid AND d.deptype = 'e')
           ORDER BY 1 LIMIT 6""",
        {"schema": history.schema, "history": history.table, "meta": f"{history.table}_toolkit"},
    )
    found = [name for (name,) in cur.fetchall()]
    if not found:
        return None
    shown = ", ".join(found[:5]) + (", …" if len(found) > 5 else "")
    env = environment or "ENV"
    return GuardRefused(
        f'schema "{history.schema}" already holds tables or other objects ({shown}) but {history.name} records '
        "no migration: they were not made by these migrations, and running V1 would build them a second time",
        hint=f"if the database already has what the migrations up to version V make, record that with `toolkit db "
        f"baseline {env} --version V` and only later files run; if those objects belong to something else, "
        f"`toolkit db baseline {env} --version 0` lets every file run",
    )


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
        unrecorded = None if applied else unrecorded_schema(cur, history, options.get("environment"))
    plan = plan_migrations(load(migrations), applied, server_version=conn.server_version, **options)
    if unrecorded is not None:
        plan = replace(plan, problems=(str(unrecorded), *plan.problems))
    return plan


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
    lint_policy: LintPolicy | None = None,
) -> MigrateResult:
    """Apply every pending versioned migration in order, then changed repeatables, each on its own."""
    import psycopg2

    conn.autocommit = True
    loaded = load(migrations)
    with (
        database_errors(f"migrating with {history.name}"),
        migration_lock(conn, history, lock_timeout_seconds),
    ):
        search_path = restore = b""
        with conn.cursor() as cur:
            refuse_unrecorded_schema(cur, history, environment)
            if not dry_run:
                bookkeeping.ensure(cur, history)
                search_path, restore = default_schema_first(cur, history.schema)
        try:
            plan = current_plan(
                conn,
                loaded,
                history,
                environment=environment,
                out_of_order=out_of_order,
                placeholders=placeholders,
                keep_states=False,
            )
            problems = list(plan.problems)
            if lint and plan.pending:
                from toolkit.migrations.lint import refusals

                problems.extend(refusals(plan.pending, history.schema, policy=lint_policy))
            if problems:
                raise ValidationFailed("migrations cannot run; nothing was applied:", problems)
            if dry_run:
                return MigrateResult((), plan.applied, tuple(_dry_step(p) for p in plan.pending), dry_run=True)
            done: list[AppliedStep] = []
            reset = session_reset(conn.server_version) + search_path
            with conn.cursor() as cur:
                code = bool(plan.pending) and stored_code_may_change_session(cur, conn.server_version)
                if code:  # the run's own DDL (the history table) may have fired it already
                    cur.execute(reset)
                last_rank = history.last_rank(cur) if plan.pending else 0  # the lock is held: the run counts on
            # Each step let go once applied: its memory goes to the step's result (10,000 of each).
            already_applied, queue = plan.applied, deque(plan.pending)
            del plan
            while queue:
                step = queue.popleft()
                if on_event:
                    on_event(f"applying {step.file.script}")
                timeouts = _timeouts(step, lock_timeout, statement_timeout)
                # Read, split, apply and forget: the file is read again here (refused if its bytes are
                # not the planned ones), so the run holds one file's text at a time.
                text = _planned_text(step, done)
                risk = _risk(step, text)
                code = code or risk is SessionRisk.CODE  # it may have stored code a later file fires
                after = reset if code or risk or not step.source.directives.transactional else b""
                statements = step.statements_of(text)
                rank = last_rank + len(done) + 1
                done.append(_apply_one(conn, step, statements, history, timeouts, after, environment, rank))
            return MigrateResult(applied=tuple(done), already_applied=already_applied)
        finally:
            if restore and not conn.closed:  # the session's own search_path back, as Flyway restores it
                with suppress(psycopg2.Error), conn.cursor() as cur:
                    cur.execute(restore)


def _timeouts(step: PendingMigration, lock_timeout: str, statement_timeout: str) -> tuple[str, str]:
    """The file's own lock and statement timeouts, or the run's."""
    directives = step.source.directives
    return directives.lock_timeout or lock_timeout, directives.statement_timeout or statement_timeout


def _planned_text(step: PendingMigration, done: list[AppliedStep]) -> str:
    """The step's text, read again; a file changed since the plan was made stops the run before any of
    its statements, and the message says which files of this run were applied before it."""
    try:
        return step.source.text
    except ValidationFailed as exc:
        ran = f"the {len(done)} file(s) before it in this run were applied" if done else "nothing was applied"
        raise ValidationFailed(
            f"{step.file.script} changed after the plan was made; nothing of it ran, {ran}", [], hint=exc.hint
        ) from None


def _risk(step: PendingMigration, text: str) -> SessionRisk:
    """What the file could do to the session, placeholders filled (a value may hold SQL)."""
    return file_risk(fill(text, step.placeholders)[0] if "${" in text else text)


def _dry_step(step: PendingMigration) -> DryRunStep:
    sql = "".join(f"{text}\n" if text.endswith("\n\\.") else f"{text};\n" for text in step.shown)
    version = str(step.file.version) if step.file.version else None
    return DryRunStep(step.file.script, version, step.reason, step.source.directives.transactional, sql)


def _apply_one(
    conn,
    step: PendingMigration,
    statements: tuple[Statement, ...],
    history: HistoryTable,
    timeouts: tuple[str, str],
    reset: bytes,
    environment: str | None = None,
    rank: int | None = None,
) -> AppliedStep:
    import psycopg2

    transactional = step.source.directives.transactional
    started = time.monotonic()
    current: Statement | None = None
    restored = row_written = False
    done = shift = 0  # statements finished: outside a transaction, they stay applied whatever follows
    with conn.cursor() as cur:
        try:
            # Bookkeeping shares round trips with the migration (BEGIN with the timeouts and the first
            # statement; the session reset, when the file could have changed the session
            # (migrations/session.py), the history row and COMMIT together): per file, one round trip
            # fewer than psql running the same statements. The reset comes before the history row, so
            # installed_by is the run's own user even when the file ran SET ROLE.
            settings = _settings(timeouts, transactional)
            if transactional and statements and statements[0].copy_data is None:
                # BEGIN rides with the first statement: one round trip fewer than psql's BEGIN alone.
                # The server's error position then counts from the start of BEGIN (`shift`).
                begin = "BEGIN; " + settings.decode() + "; "
                current, shift = statements[0], len(begin)
                cur.execute(begin + current.sql)
                done, shift = 1, 0
            elif transactional:
                cur.execute(b"BEGIN; " + settings)
            else:  # the row first, failed: a run stopped half-way leaves the file failed, not pending
                _record(cur, history, step, 0, success=False, first=settings + b"; ", rank=rank)
                row_written = True
            for current in statements[done:]:
                if current.copy_data is None:
                    cur.execute(current.sql)
                else:  # COPY … FROM STDIN with the data that follows it in the file
                    copy_in(cur, current.sql, current.copy_data)
                done += 1
            current = None  # a failure from here on is the bookkeeping's, not a statement's
            elapsed = int((time.monotonic() - started) * 1000)
            if transactional:
                _record(cur, history, step, elapsed, success=True, commit=True, first=reset, rank=rank)
            else:
                history.mark_succeeded(cur, script=step.file.script, execution_ms=elapsed, first=reset)
            restored = True
        except psycopg2.Error as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            message = describe_failure(step, current, exc, shift)
            if transactional:
                with suppress(psycopg2.Error):  # a dead connection has rolled back already
                    cur.execute("ROLLBACK")
                raise MigrationFailed(message, hint=transactional_hint(exc, conn)) from None
            hint = partial_hint(list(statements), done, environment, row_written=row_written)
            raise MigrationFailed(message, hint=hint) from None
        finally:
            # A rolled-back file left nothing behind; a file outside a transaction whose history row
            # could not be written still needs its settings undone.
            if not transactional and not restored and not conn.closed:
                with suppress(psycopg2.Error):
                    cur.execute(reset)
    version = str(step.file.version) if step.file.version else ""
    return AppliedStep(script=step.file.script, version=version, milliseconds=elapsed)


@functools.lru_cache(maxsize=64)
def _settings_sql(lock_timeout: str, statement_timeout: str, local: bool) -> str:
    from psycopg2.extensions import QuotedString

    quoted = [QuotedString(v).getquoted().decode() for v in (lock_timeout, statement_timeout)]
    scope = "true" if local else "false"
    return (
        f"SELECT set_config('lock_timeout', {quoted[0]}, {scope}), "
        f"set_config('statement_timeout', {quoted[1]}, {scope})"
    )


def _settings(timeouts: tuple[str, str], transactional: bool) -> bytes:
    """The file's timeouts, set for its transaction (or, outside one, for the session); made once per value."""
    return _settings_sql(timeouts[0], timeouts[1], transactional).encode()


def _record(
    cur,
    history: HistoryTable,
    step: PendingMigration,
    elapsed: int,
    *,
    success: bool,
    commit: bool = False,
    first: bytes = b"",
    rank: int | None = None,
) -> None:
    history.record(
        cur,
        commit=commit,
        first=first,
        rank=rank,
        version=step.file.version,
        description=step.file.description,
        type_=step.file.type_code,
        script=step.file.script,
        checksum=step.checksum,
        execution_ms=elapsed,
        success=success,
    )
