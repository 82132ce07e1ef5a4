"""`db status|migrate|validate|repair|baseline|lint|drift`: the migration engine against one environment.

Each verb connects through the environment's Terraform outputs (password from its file or from
Secrets Manager by the ARN in the outputs) and fills placeholders from values(ENV). With `database`, it
works on that database of the project; without, on each in order (a project of several databases gets an
`EachDatabase` result, one of one database the verb's own result, as before there were several).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.deploy import noop_verdict
from toolkit.deploy.context import Context
from toolkit.deploy.guards import refuse_protected
from toolkit.errors import ToolkitError, UsageError, ValidationFailed
from toolkit.migrations.results import MigrateResult

if TYPE_CHECKING:  # the engine, the drift check and lint are imported by the verbs that use them: a
    # verified no-op `db migrate` (deploy/noop_verdict.py) needs none of them
    from toolkit.deploy.database_drift import DriftResult
    from toolkit.migrations.lint import LintFinding
    from toolkit.migrations.plan import FileState


@dataclass(frozen=True)
class EachDatabase:
    """One verb's result for each database, in the order they migrate (database name -> result)."""

    environment: str
    results: dict[str, Any]

    def any(self, attribute: str) -> bool:
        """Whether any database's result has a non-empty `attribute` (refused lint findings, drift)."""
        return any(getattr(result, attribute) for result in self.results.values())


def each_database(ctx: Context, database: str | None, verb: Callable[[Context], Any], environment: str) -> Any:
    """`verb` on the selected database, or on every one in order; a failure names its database and the ones
    already done."""
    selected = ctx.project.selected(database)
    if database is not None or len(ctx.project.databases) == 1:
        return verb(ctx.for_database(selected[0]))
    results: dict[str, Any] = {}
    for db in selected:
        try:
            results[db.name] = verb(ctx.for_database(db))
        except ToolkitError as exc:
            exc.message = f"database {db.name}: {exc.message}\n  databases already done: {', '.join(results) or 'none'}"
            raise
    return EachDatabase(environment, results)


@dataclass(frozen=True)
class StatusResult:
    environment: str
    current: str | None
    files: tuple[FileState, ...]
    problems: tuple[str, ...]

    @property
    def pending(self) -> int:
        return sum(1 for f in self.files if f.state == "pending")


@dataclass(frozen=True)
class RepairResult:
    environment: str
    removed_failed: tuple[str, ...]
    realigned: tuple[str, ...]


@dataclass(frozen=True)
class BaselineResult:
    environment: str
    version: str


@dataclass(frozen=True)
class LintResult:
    findings: tuple[LintFinding, ...]
    environment: str | None = None  # linted against this environment's database
    not_pending: dict[str, str] = field(default_factory=dict)  # script -> its state there (applied, …)
    reached: bool = True  # the environment's database could be asked (else every file counts as pending)

    @property
    def refused(self) -> tuple[LintFinding, ...]:
        return tuple(f for f in self.findings if f.refused and f.script not in self.not_pending)


def _status(ctx: Context, name: str) -> StatusResult:
    from toolkit.deploy.database import history_table, open_session
    from toolkit.deploy.validation import load_migrations
    from toolkit.migrations.engine import current_plan

    env = ctx.project.environment(name)
    with open_session(ctx, env, load_migrations(ctx)) as s:  # file problems surface before any connection
        plan = current_plan(s.conn, s.migrations, history_table(ctx, s.target), **s.plan_options(ctx))
    return StatusResult(env.name, plan.current, plan.states, plan.problems)


def db_status(ctx: Context, name: str, database: str | None = None) -> StatusResult | EachDatabase:
    """Applied, pending, failed and changed migrations; problems are reported, not raised."""
    return each_database(ctx, database, lambda c: _status(c, name), name)


def db_validate(ctx: Context, name: str, database: str | None = None) -> StatusResult | EachDatabase:
    """Like status, but fails (exit 1) on any problem: checksums, missing files, out-of-order versions (of
    every database asked; the problems of each are named by database)."""
    ctx.project.environment(name)
    found = {db.name: _status(ctx.for_database(db), name) for db in ctx.project.selected(database)}
    several = len(ctx.project.databases) > 1
    problems = [f"{db}: {p}" if several else p for db, result in found.items() for p in result.problems]
    if problems:
        raise ValidationFailed(f"{name}: migrations do not validate:", problems)
    return EachDatabase(name, found) if database is None and several else next(iter(found.values()))


def db_migrate(
    ctx: Context, name: str, *, dry_run: bool = False, database: str | None = None
) -> MigrateResult | EachDatabase:
    """Apply (or, dry, show) the pending migrations of the selected database, or of each in order."""
    if not dry_run:
        refuse_protected(ctx.project.environment(name), "toolkit db migrate")
    return each_database(ctx, database, lambda c: _migrate(c, name, dry_run), name)


def _migrate(ctx: Context, name: str, dry_run: bool) -> MigrateResult:
    from toolkit.deploy.database import history_table

    env = ctx.project.environment(name)
    if not dry_run:
        refuse_protected(env, "toolkit db migrate")
    settings = ctx.project.migrations
    found = verdict = None
    with ctx.reporter.step(_title(ctx) + (" (dry run)" if dry_run else "")):
        if not dry_run and ctx.caching:
            verdict = noop_verdict.stored(ctx, env)
            asked = noop_verdict.ask(ctx, env, verdict, lambda t: history_table(ctx, t)) if verdict else None
            found = noop_verdict.scan(ctx.project.sql_dir)  # before any read of a file; the database asked meanwhile
            # Waited for even when the scan differs: its session, and the lock, are gone by then.
            applied = None if asked is None else noop_verdict.check(ctx, env, found, verdict, asked())
            if applied is not None:
                ctx.reporter.note(f"{applied} applied, nothing changed since the last run verified every checksum")
                return MigrateResult((), applied)
        from toolkit.deploy.database import open_session
        from toolkit.deploy.migrating import lint_policy
        from toolkit.deploy.validation import load_migrations
        from toolkit.migrations.engine import migrate

        with open_session(ctx, env, load_migrations(ctx)) as s, _held(ctx, s, found) as history:
            result = migrate(
                s.conn,
                s.migrations,
                history,
                lock_timeout_seconds=settings.lock_timeout_seconds,
                on_event=ctx.reporter.detail,
                lock_timeout=settings.lock_timeout,
                statement_timeout=settings.statement_timeout,
                dry_run=dry_run,
                lint_policy=lint_policy(ctx, s.migrations),
                **s.plan_options(ctx),
            )
            if found is not None and not result.applied:
                noop_verdict.remember(ctx, env, found, s, history, s.migrations, result.already_applied)
            return result


@contextmanager
def _held(ctx: Context, session, found) -> Iterator:
    """The session's history table; when a no-op verdict may be written, with the migration lock held
    around the whole run (advisory locks stack within a session, so the engine's own lock inside it is
    taken at once): the history the verdict records is then the one the run planned against, not one
    another run changed the moment the engine let the lock go."""
    from toolkit.deploy.database import history_table

    history = history_table(ctx, session.target)
    if found is None or session.target.engine != "postgres":
        yield history
        return
    from toolkit.migrations.apply import migration_lock

    with migration_lock(session.conn, history, ctx.project.migrations.lock_timeout_seconds):
        yield history


def _title(ctx: Context) -> str:
    return f"migrations of {ctx.current_database.name}" if len(ctx.project.databases) > 1 else "migrations"


def db_repair(ctx: Context, name: str, database: str | None = None) -> RepairResult | EachDatabase:
    """Remove failed rows and realign checksums and descriptions of applied files (Flyway's repair)."""
    refuse_protected(ctx.project.environment(name), "toolkit db repair")
    return each_database(ctx, database, lambda c: _repair(c, name), name)


def _repair(ctx: Context, name: str) -> RepairResult:
    from toolkit.deploy.database import history_table, open_session
    from toolkit.deploy.validation import load_migrations
    from toolkit.migrations.engine import repair

    env = ctx.project.environment(name)
    with open_session(ctx, env, load_migrations(ctx)) as s:
        removed, realigned = repair(
            s.conn, history_table(ctx, s.target), s.migrations, ctx.project.migrations.lock_timeout_seconds
        )
    return RepairResult(env.name, removed, realigned)


def db_baseline(ctx: Context, name: str, version: str, database: str | None = None) -> BaselineResult | EachDatabase:
    """Mark an existing database as being at `version`: files up to it are never run. A project of several
    databases must say which (`database`): a version of one means nothing in another."""
    from toolkit.migrations.repair import parse_baseline_version

    env = ctx.project.environment(name)
    refuse_protected(env, "toolkit db baseline")
    parsed = parse_baseline_version(version)
    if database is None and len(ctx.project.databases) > 1:
        names = ", ".join(d.name for d in ctx.project.databases)
        raise UsageError(f"say which database of {name} is at version {parsed}", hint=f"--database one of {names}")
    return each_database(ctx, database, lambda c: _baseline(c, env, parsed), name)


def _baseline(ctx: Context, env, parsed) -> BaselineResult:
    from toolkit.deploy.database import history_table, open_session
    from toolkit.deploy.validation import load_migrations
    from toolkit.migrations.engine import baseline

    name = env.name
    with open_session(ctx, env, load_migrations(ctx)) as s:
        baseline(s.conn, history_table(ctx, s.target), parsed, ctx.project.migrations.lock_timeout_seconds, where=name)
    return BaselineResult(env.name, str(parsed))


def db_lint(ctx: Context, name: str | None = None, database: str | None = None) -> LintResult | EachDatabase:
    """Destructive-change findings in every migration file, in order, each file judged on its own (no database
    needed). With an environment, what is applied there is history, never refused, and what is pending
    there is judged as the one run `migrate` would make of it."""
    return each_database(ctx, database, lambda c: _lint(c, name), name or "")


def _lint(ctx: Context, name: str | None) -> LintResult:
    from toolkit.deploy.migrating import database_states, lint_policy
    from toolkit.deploy.validation import load_migrations
    from toolkit.migrations.engine import lint_sources, run_findings

    loaded = load_migrations(ctx)
    policy = lint_policy(ctx, loaded)
    if name is None:
        return LintResult(tuple(lint_sources(loaded, policy=policy)))
    env = ctx.project.environment(name)
    states = database_states(ctx, env, loaded)
    not_pending = {script: state for script, state in (states or {}).items() if state != "pending"}
    pending = [s for s in loaded if s.script not in not_pending and s.runs_in(env.name)]
    findings = run_findings(pending, policy) + lint_sources(
        [s for s in loaded if s.script in not_pending], policy=policy
    )
    order = {s.script: i for i, s in enumerate(loaded)}
    findings.sort(key=lambda f: (order[f.script], f.line))
    return LintResult(tuple(findings), env.name, not_pending, reached=states is not None)


def db_drift(ctx: Context, name: str, database: str | None = None) -> DriftResult | EachDatabase:
    """Differences between the live schema and what the applied migrations build on an empty database."""
    from toolkit.deploy.database_drift import database_drift
    from toolkit.deploy.validation import load_migrations

    env = ctx.project.environment(name)
    return each_database(ctx, database, lambda c: database_drift(c, env, load_migrations(c)), name)
