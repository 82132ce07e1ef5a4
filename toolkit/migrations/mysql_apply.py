"""Apply pending migrations to MySQL on one connection, under a GET_LOCK user lock.

MySQL commits DDL implicitly, so a file runs in a transaction that only its row changes can be rolled
back in: each statement that commits implicitly (CREATE, ALTER, DROP, …) makes everything before it
permanent. When a statement fails, the rows changed since the last such statement are rolled back; if
anything stayed (or the failing statement was itself DDL, which MariaDB and MySQL 5.7 may leave half
done), the file is recorded as failed, as Flyway records it on MySQL (a row with success = 0), the
message lists the statements that stayed applied, and the next run is refused until `db repair`.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace

from toolkit.errors import DatabaseError, GuardRefused, MigrationFailed, ValidationFailed
from toolkit.migrations.discovery import MigrationSet
from toolkit.migrations.mysql_history import MySQLHistoryTable
from toolkit.migrations.mysql_statements import as_mysql, commits_implicitly, script_sql
from toolkit.migrations.placeholders import Placeholders
from toolkit.migrations.plan import MigrationPlan, PendingMigration, plan_migrations
from toolkit.migrations.results import AppliedStep, DryRunStep, MigrateResult
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.migrations.sqlsplit import Statement

EventSink = Callable[[str], None]
# What a file's `SET …` would otherwise carry into the next file (as Flyway restores them on MySQL); the
# default database is restored too (a `USE other`).
SESSION_STATE = (
    "foreign_key_checks",
    "unique_checks",
    "sql_mode",
    "time_zone",
    "sql_safe_updates",
    "character_set_client",
    "character_set_results",
    "collation_connection",
)
# Words that can change the session for the next file, anywhere in its text (strings and comments too,
# so `PREPARE s FROM 'SET …'` counts): SET (also `SET@@x`, `SET NAMES`), USE (also USE`db`), a procedure
# (CALL), dynamic SQL (PREPARE, EXECUTE), DO, LOAD, and `@@` (a system variable). A false alarm costs one
# restore; an identifier character on either side (`dataset`, `set_up`) makes it another word.
_CHANGES_SESSION = re.compile(r"(?<![A-Za-z0-9_$])(?:SET|USE|CALL|PREPARE|EXECUTE|DO|LOAD)(?![A-Za-z0-9_$])|@@", re.I)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$")


@contextmanager
def database_errors(what: str) -> Iterator[None]:
    """MySQL errors outside a migration's statements (history, lock): DatabaseError."""
    import pymysql

    try:
        yield
    except pymysql.err.MySQLError as exc:
        message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        raise DatabaseError(
            f"{what}: {message}", hint="check that the login user may create and write the history table"
        ) from None


def lock_name(history: MySQLHistoryTable) -> str:
    """GET_LOCK names are server-wide and at most 64 characters: one per history table."""
    name = f"toolkit:{history.schema}.{history.table}"
    return name if len(name) <= 64 else f"toolkit:{zlib.crc32(name.encode()):08x}:{name[:45]}"


@contextmanager
def migration_lock(conn, history: MySQLHistoryTable, timeout_seconds: float) -> Iterator[None]:
    """GET_LOCK with a bounded wait; the server releases it when the connection goes, so a killed run
    never leaves it behind."""
    name = lock_name(history)
    with conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, %s)", (name, max(0, int(timeout_seconds))))
        (got,) = cur.fetchone()
        if got != 1:
            cur.execute("SELECT IS_USED_LOCK(%s)", (name,))
            (holder,) = cur.fetchone()
            raise DatabaseError(
                f"another migration run holds the lock {name!r} on {history.name} (MySQL connection "
                f"{holder}) and did not finish within {timeout_seconds:.0f}s",
                hint="wait for it, or raise [migrations].lock_timeout_seconds; a killed run releases the "
                f"lock when its connection closes (a stuck one can be ended with `KILL {holder}`)",
            )
    try:
        yield
    finally:
        if conn.open:
            with suppress(Exception), conn.cursor() as cur:
                cur.execute("SELECT RELEASE_LOCK(%s)", (name,))


def _seconds(text: str, default: int) -> int:
    found = _DURATION.match(text or "")
    if not found:
        return default
    factor = {"ms": 0.001, "s": 1, None: 1, "min": 60, "h": 3600}[found[2]]
    return max(1, round(float(found[1]) * factor))


def unrecorded_schema(cur, history: MySQLHistoryTable, environment: str | None) -> GuardRefused | None:
    """The refusal for a database with tables or routines whose history table has no row, or None."""
    if history.exists(cur):
        cur.execute(f"SELECT COUNT(*) FROM {history.name}")
        if cur.fetchone()[0]:
            return None
    cur.execute(
        """SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name <> %s
           UNION ALL SELECT CONCAT(routine_name, '()') FROM information_schema.routines WHERE routine_schema = %s
           ORDER BY 1 LIMIT 6""",
        (history.schema, history.table, history.schema),
    )
    found = [str(name) for (name,) in cur.fetchall()]
    if not found:
        return None
    shown = ", ".join(found[:5]) + (", …" if len(found) > 5 else "")
    env = environment or "ENV"
    return GuardRefused(
        f"database {history.schema!r} already holds tables or routines ({shown}) but {history.name} records no "
        "migration: running V1 there would build them a second time",
        hint=f"record what it has with `toolkit db baseline {env} --version V`, or `--version 0` to let every file run",
    )


def current_plan(conn, migrations: MigrationSet | LoadedMigrations, history: MySQLHistoryTable, **options):
    """The plan against this database (options: environment, out_of_order, placeholders)."""
    loaded = load(migrations)
    mysql = LoadedMigrations(
        tuple(as_mysql(s) for s in loaded.versioned), tuple(as_mysql(s) for s in loaded.repeatable)
    )
    with conn.cursor() as cur:
        applied = history.applied(cur)
        unrecorded = None if applied else unrecorded_schema(cur, history, options.get("environment"))
    plan = plan_migrations(mysql, applied, **options)
    if unrecorded is not None:
        plan = replace(plan, problems=(str(unrecorded), *plan.problems))
    return plan


def migrate(
    conn,
    migrations: MigrationSet | LoadedMigrations,
    history: MySQLHistoryTable,
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
    lint_policy=None,
) -> MigrateResult:
    """Apply every pending versioned migration in order, then changed repeatables, each on its own.
    `lock_timeout` is MySQL's lock_wait_timeout (metadata locks a DDL statement waits for);
    `statement_timeout` has no MySQL equivalent for DDL and is not used."""
    with database_errors(f"migrating with {history.name}"), migration_lock(conn, history, lock_timeout_seconds):
        with conn.cursor() as cur:
            refusal = unrecorded_schema(cur, history, environment)
            if refusal is not None:
                raise refusal
            if not dry_run:
                history.create(cur)
        options = {"environment": environment, "out_of_order": out_of_order, "placeholders": placeholders}
        plan: MigrationPlan = current_plan(conn, migrations, history, **options)
        problems = list(plan.problems)
        if lint and plan.pending:
            from toolkit.migrations.mysql_lint import refusals

            problems.extend(refusals([p.source for p in plan.pending], policy=lint_policy))
        if problems:
            raise ValidationFailed("migrations cannot run; nothing was applied:", problems)
        if dry_run:
            return MigrateResult((), plan.applied, tuple(_dry_step(p) for p in plan.pending), dry_run=True)
        with conn.cursor() as cur:
            cur.execute("SET SESSION lock_wait_timeout = %s", (_seconds(lock_timeout, 10),))
            restore = session_restore(cur)
            last_rank = history.last_rank(cur)  # the lock is held: the run numbers its rows on from here
        done = []
        conn.autocommit(False)  # each file's statements and history row commit together (DDL aside)
        try:
            for step in plan.pending:
                if on_event:
                    on_event(f"applying {step.file.script}")
                done.append(_apply_one(conn, step, history, environment, restore, last_rank + len(done) + 1))
        finally:
            with suppress(Exception):
                conn.rollback()  # nothing is open after a file; this only makes sure
                conn.autocommit(True)
        return MigrateResult(applied=tuple(done), already_applied=plan.applied)


def session_restore(cur) -> str:
    """The SQL that gives the session its settings back as they are now."""
    cur.execute("SELECT " + ", ".join(f"@@SESSION.{name}" for name in SESSION_STATE))
    values = cur.fetchone()
    return cur.mogrify("SET " + ", ".join(f"SESSION {name} = %s" for name in SESSION_STATE), values)


def _dry_step(step: PendingMigration) -> DryRunStep:
    version = str(step.file.version) if step.file.version else None
    return DryRunStep(step.file.script, version, step.reason, False, script_sql(list(step.shown)))


def _apply_one(
    conn, step: PendingMigration, history: MySQLHistoryTable, environment: str | None, restore: str, rank: int
) -> AppliedStep:
    """One file in one transaction (the run has autocommit off), its history row committed with it."""
    import pymysql

    started = time.monotonic()
    ran: list[Statement] = []
    committed = 0  # ran[:committed] can no longer be rolled back
    current: Statement | None = None
    try:
        with conn.cursor() as cur:
            try:
                for current in step.statements:
                    cur.execute(current.sql)
                    ran.append(current)
                    if commits_implicitly(current.sql):
                        committed = len(ran)
                current = None
                _record(cur, history, step, started, success=True, rank=rank)
                conn.commit()
            except pymysql.err.MySQLError as exc:
                _failed(conn, cur, history, step, started, (ran, committed, current), exc, environment)
    finally:
        if _CHANGES_SESSION.search(step.source.text):  # cheap: most files never touch the session
            with suppress(Exception):
                conn.select_db(history.schema)  # a `USE other` in the file does not move the next one
                with conn.cursor() as cur:
                    cur.execute(restore)
    version = str(step.file.version) if step.file.version else ""
    return AppliedStep(step.file.script, version, int((time.monotonic() - started) * 1000))


def _record(
    cur, history: MySQLHistoryTable, step: PendingMigration, started: float, *, success: bool, rank: int | None = None
) -> None:
    history.record(
        cur,
        rank=rank,
        version=step.file.version,
        description=step.file.description,
        type_=step.file.type_code,
        script=step.file.script,
        checksum=step.checksum,
        execution_ms=int((time.monotonic() - started) * 1000),
        success=success,
    )


def _failed(conn, cur, history, step: PendingMigration, started: float, state, exc, environment) -> None:
    """Roll back what can be, record the file as failed when something stayed, raise MigrationFailed."""
    import pymysql

    ran, committed, current = state
    with suppress(pymysql.err.MySQLError):
        cur.execute("SELECT @@in_transaction")
        if not cur.fetchone()[0]:  # the failing statement committed what came before it, then failed
            committed = len(ran)
    with suppress(pymysql.err.MySQLError):
        conn.rollback()
    stayed, undone = ran[:committed], ran[committed:]
    failing_ddl = current is not None and commits_implicitly(current.sql)
    code = exc.args[0] if exc.args else "?"
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    where = f"{step.file.script}:{current.line}" if current is not None else step.file.script
    what = f"migration {step.file.version}" if step.file.version else "repeatable migration"
    text = f"{where}: {what} failed: {message} [MySQL error {code}]"
    lines = ", ".join(str(s.line) for s in stayed)
    text += f"; statements that stayed applied (line {lines})" if stayed else "; no earlier statement stayed applied"
    if undone:
        text += f"; rolled back: the row changes at line {', '.join(str(s.line) for s in undone)}"
    env = environment or "ENV"
    if not stayed and not failing_ddl:
        raise MigrationFailed(text, hint="fix the migration and run again; nothing of it was applied") from None
    try:
        _record(cur, history, step, started, success=False)
        conn.commit()
        recorded = "it is recorded as failed (success = 0) and blocks further runs"
    except pymysql.err.MySQLError:
        recorded = "recording it as failed did not work either (connection lost?)"
    partial = " (a failed DDL statement may itself have left part of its change on MariaDB and MySQL 5.7)"
    raise MigrationFailed(
        text,
        hint=f"MySQL commits DDL implicitly, so this file could not be rolled back{partial if failing_ddl else ''}; "
        f"{recorded}: undo or finish by hand what stayed applied, fix the file, then run `toolkit db repair {env}`",
    ) from None
