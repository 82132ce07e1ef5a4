"""The database step: the environment's pending migrations applied on one connection, with its placeholders
and settings; and the read-only plan of them that `plan`, `status` and bundles show."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass, field, replace

from toolkit.adapters.postgres.connection import DatabaseTarget
from toolkit.deploy.context import Context
from toolkit.deploy.database import (
    connect_database,
    database_target,
    has_database_outputs,
    history_table,
    open_database,
    outputs_lock,
    placeholders_for,
    server_root,
)
from toolkit.deploy.progress import Progress
from toolkit.deploy.stacks import never_deployed, stack_outputs
from toolkit.errors import ConfigError, GuardRefused, ToolkitError
from toolkit.migrations.engine import current_plan, migrate, refusals
from toolkit.migrations.history import BASELINE_TYPES
from toolkit.migrations.lint import LintPolicy
from toolkit.migrations.plan import MigrationPlan, plan_migrations
from toolkit.migrations.results import MigrateResult
from toolkit.migrations.rules import RULES
from toolkit.migrations.source import LoadedMigrations
from toolkit.project.model import Environment
from toolkit.terraform.outputs import Output


@dataclass(frozen=True)
class MigrationRun:
    target: DatabaseTarget
    result: MigrateResult
    applied: dict[str, int]  # version -> checksum of every migration the database now runs
    repeatables: dict[str, int] = field(default_factory=dict)  # script -> checksum of its last successful run


def migrate_environment(
    ctx: Context,
    env: Environment,
    conn,
    target: DatabaseTarget,
    outputs: dict[str, Output],
    loaded: LoadedMigrations,
    *,
    dry_run: bool = False,
    lint: bool = True,
) -> MigrateResult:
    """Apply (or, dry, show) the environment's pending migrations with its placeholders and settings;
    `lint=False` when the files were linted before this run started (env up's validate step)."""
    settings = ctx.project.migrations
    return migrate(
        conn,
        loaded,
        history_table(ctx, target),
        lock_timeout_seconds=settings.lock_timeout_seconds,
        on_event=ctx.reporter.detail,
        environment=env.name,
        placeholders=placeholders_for(ctx, env, outputs, target),
        out_of_order=settings.out_of_order,
        lock_timeout=settings.lock_timeout,
        statement_timeout=settings.statement_timeout,
        dry_run=dry_run,
        lint=lint,
        lint_policy=lint_policy(ctx, loaded),
    )


def run_migrations(
    ctx: Context,
    env: Environment,
    outputs: dict[str, Output],
    loaded: LoadedMigrations,
    progress: Progress,
    *,
    reviewed: Collection[str] | None = None,
    lint: bool = True,
) -> MigrationRun:
    """Start the database if it is the local one, then migrate it; with `reviewed`, every pending migration
    must be one of those scripts (a plan bundle's), or nothing is applied. What was applied is added to
    `progress`, also when a later migration fails (each one commits on its own)."""
    target, conn = open_database(ctx, env, outputs)
    try:
        if reviewed is None and (noop := _nothing_to_do(ctx, env, conn, target, outputs, loaded)) is not None:
            result, rows = noop
        else:
            result, rows = _migrate(ctx, env, conn, target, outputs, loaded, progress, reviewed, lint)
        applied, repeatables = _applied_versions(rows), _applied_repeatables(rows)
    finally:
        conn.close()
    if result.applied:
        scripts = ", ".join(step.script for step in result.applied)
        progress.changed.append(f"{len(result.applied)} migration(s) applied{_in(ctx)}: {scripts}")
    else:
        ctx.reporter.note(f"migrations{_in(ctx)}: all applied, nothing to do")
    return MigrationRun(target, result, applied, repeatables)


def _migrate(ctx, env, conn, target, outputs, loaded, progress, reviewed, lint) -> tuple[MigrateResult, list]:
    """The migration engine's run (under its lock), and the history rows after it."""
    if reviewed is not None:
        _refuse_unreviewed(ctx, env, conn, target, outputs, loaded, reviewed)
    before = _history_rank(ctx, conn, target)
    try:
        result = migrate_environment(ctx, env, conn, target, outputs, loaded, lint=lint)
    except ToolkitError:
        done = _applied_since(ctx, target, before)
        if done:
            progress.changed.append(f"{len(done)} migration(s) applied{_in(ctx)}: {', '.join(done)}")
        raise
    with conn.cursor() as cur:
        return result, history_table(ctx, target).applied(cur)


def _nothing_to_do(ctx, env, conn, target, outputs, loaded) -> tuple[MigrateResult, list] | None:
    """A PostgreSQL database whose history already runs every file as it is (nothing pending, no problem:
    the same plan the engine makes under its lock, on one read of the history), with its rows; None when
    there may be something to do, which the engine then decides under its lock. Nothing is written, so no
    lock is needed: a run applying at the same moment leaves files pending in this read, or none."""
    if target.engine != "postgres":
        return None
    with conn.cursor() as cur:
        rows = history_table(ctx, target).applied(cur)
    if not rows:  # a new database, or one built without migrations: the engine's own checks decide
        return None
    options = _plan_options(ctx, env, outputs, target)
    plan = plan_migrations(loaded, rows, server_version=conn.server_version, **options)
    if plan.pending or plan.problems:
        return None
    return MigrateResult(applied=(), already_applied=plan.applied), rows


def _in(ctx: Context) -> str:
    """` in <database>` when the project has several (one database reads as before)."""
    return f" in {ctx.current_database.name}" if len(ctx.project.databases) > 1 else ""


def migrate_databases(
    ctx: Context,
    env: Environment,
    outputs: dict[str, Output],
    loaded: dict[str, LoadedMigrations],
    progress: Progress,
    *,
    reviewed: dict[str, Collection[str]] | None = None,
) -> dict[str, MigrationRun]:
    """Every database of the project in its declared order, each on its own connection under its own lock
    (`loaded`: each one's files; `reviewed`: each one's reviewed scripts). The first failure stops the
    run; its message names the database, the ones already migrated and the ones not reached."""
    runs: dict[str, MigrationRun] = {}
    databases = ctx.project.databases
    for database in databases:
        scoped = ctx.for_database(database)
        title = f"database {database.name}" if len(databases) > 1 else "database"
        try:
            with progress.step(scoped, title):  # lints what is pending now (validate may not have seen it)
                allowed = None if reviewed is None else reviewed.get(database.name, ())
                runs[database.name] = run_migrations(
                    scoped, env, outputs, loaded[database.name], progress, reviewed=allowed
                )
        except ToolkitError as exc:
            if len(databases) > 1:
                later = [d.name for d in databases[len(runs) + 1 :]]
                exc.message += (
                    f"\n  databases already migrated: {', '.join(runs) or 'none'}; "
                    f"not reached: {', '.join(later) or 'none'}"
                )
            raise
    return runs


def _refuse_unreviewed(ctx, env, conn, target, outputs, loaded, reviewed: Collection[str]) -> None:
    plan = current_plan(conn, loaded, history_table(ctx, target), **_plan_options(ctx, env, outputs, target))
    unreviewed = sorted({p.file.script for p in plan.pending} - set(reviewed))
    if unreviewed:
        raise GuardRefused(
            f"migrations pending in {env.name!r} were not in the reviewed plan: {', '.join(unreviewed)}",
            hint="make a new plan so they are reviewed",
        )


def _plan_options(ctx: Context, env: Environment, outputs: dict[str, Output], target: DatabaseTarget) -> dict:
    return {
        "environment": env.name,
        "out_of_order": ctx.project.migrations.out_of_order,
        "placeholders": placeholders_for(ctx, env, outputs, target),
    }


def database_plan(
    ctx: Context, env: Environment, outputs: dict[str, Output], loaded: LoadedMigrations
) -> MigrationPlan | None:
    """The migration plan against the environment's database (lint refusals of what is pending among its
    problems), or None when it cannot be reached: an environment not yet up has no database to ask."""
    if not has_database_outputs(outputs):
        return None
    try:
        target = database_target(ctx, env, outputs)
        conn = connect_database(target, attempts=1)
    except ToolkitError as exc:
        ctx.reporter.note(f"database not reachable: {exc.message}")
        return None
    try:
        plan = current_plan(conn, loaded, history_table(ctx, target), **_plan_options(ctx, env, outputs, target))
    finally:
        conn.close()
    return replace(plan, problems=tuple(plan.problems) + tuple(refusals(plan.pending, policy=lint_policy(ctx, loaded))))


@dataclass(frozen=True)
class DatabasesPlan:
    """What `plan` and `env status` show of every database: counts and scripts over all of them, each
    script and problem named `<database>/<script>` (`<database>: …`) when there are several."""

    applied: int | None  # None: a database could not be asked
    pending: tuple[str, ...] | None  # None: not asked (not reachable); every file of a new environment
    problems: tuple[str, ...] = ()


def databases_plan(
    ctx: Context, env: Environment, infra: dict[str, Output], loaded: dict[str, LoadedMigrations]
) -> DatabasesPlan:
    """`database_plan` of each database (`infra`: the first stack's outputs, {} when it is not up), added up."""
    several = len(loaded) > 1
    applied: int | None = 0
    pending: list[str] | None = []
    problems: list[str] = []
    for database in ctx.project.databases:
        files = loaded[database.name]
        plan = database_plan(ctx.for_database(database), env, infra, files) if infra else None
        name = f"{database.name}/" if several else ""
        if plan is None:
            applied = None
            if infra:
                pending = None
            elif pending is not None:
                pending += [name + m.script for m in files.versioned]
            continue
        applied = None if applied is None else applied + plan.applied
        if pending is not None:
            pending += [name + p.file.script for p in plan.pending]
        problems += [f"{database.name}: {p}" if several else str(p) for p in plan.problems]
    return DatabasesPlan(applied, None if pending is None else tuple(pending), tuple(problems))


def pending_scripts(ctx: Context, env: Environment, loaded: LoadedMigrations) -> set[str] | None:
    """The files that would run in the environment's database now, or None when it cannot be asked yet
    (no workspace, no database output, not reachable): then every file counts as pending."""
    states = database_states(ctx, env, loaded)
    return None if states is None else {script for script, state in states.items() if state == "pending"}


def database_states(ctx: Context, env: Environment, loaded: LoadedMigrations) -> dict[str, str] | None:
    """Each file's state in the environment's database (`db status`), or None when it cannot be asked yet.
    A local database that has run before is started for the question."""
    if never_deployed(ctx, env, ctx.project.stack_order[0]):
        return None
    try:
        with outputs_lock(ctx, env):
            outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
        if env.database == "embedded" and has_database_outputs(outputs) and (server_root(ctx, env) / "data").is_dir():
            database_target(ctx, env, outputs, start=True)
    except ToolkitError:
        return None
    plan = database_plan(ctx, env, outputs, loaded)
    return None if plan is None else {state.script: state.state for state in plan.states}


def lint_policy(ctx: Context, loaded: LoadedMigrations | None = None) -> LintPolicy:
    """[migrations.lint] as the lint takes it; a rule or file it names that does not exist is an error (a
    typo must not quietly allow nothing, or everything)."""
    settings = ctx.project.migrations
    where = str(ctx.project.config_path)
    known = ", ".join(RULES)
    for rule in settings.lint_severity:
        if rule not in RULES:
            raise ConfigError(f"unknown lint rule {rule!r}", path=where, key=f"{settings.key}.lint.severity.{rule}",
                              hint=f"one of {known}")  # fmt: skip
    scripts = {s.script for s in loaded} if loaded is not None else None
    for script, rules in settings.lint_allow.items():
        key = f'{settings.key}.lint.allow."{script}"'
        unknown = [r for r in rules if r not in RULES]
        if unknown:
            raise ConfigError(f"unknown lint rule(s) {', '.join(unknown)}", path=where, key=key, hint=f"one of {known}")
        if scripts is not None and script not in scripts:
            raise ConfigError(
                f"no migration {script!r} under {ctx.project.sql_dir.name}/",
                path=where,
                key=key,
                hint="name the file by its path below the migrations folder, as the history table's script column",
            )
    return LintPolicy(
        settings.schema,
        dict(settings.lint_severity),
        {script: frozenset(rules) for script, rules in settings.lint_allow.items()},
        settings.engine,
    )


def _applied_versions(rows) -> dict[str, int]:
    """Versions applied successfully, with their checksums (what the environment runs)."""
    return {
        str(r.version): r.checksum for r in rows if r.version is not None and r.success and r.type not in BASELINE_TYPES
    }


def _applied_repeatables(rows) -> dict[str, int]:
    """Each repeatable migration's script with the checksum (after placeholders) of its last successful run."""
    return {r.script: r.checksum for r in rows if r.version is None and r.success and r.type == "SQL"}


def _history_rank(ctx: Context, conn, target: DatabaseTarget) -> int:
    """The last installed_rank of the history table (0 without one): what was applied before this run."""
    with conn.cursor() as cur:
        return max((r.installed_rank for r in history_table(ctx, target).applied(cur)), default=0)


def _applied_since(ctx: Context, target: DatabaseTarget, rank: int) -> list[str]:
    """Scripts applied successfully after `rank`, asked on a new connection (the run's may be broken); for
    the message after a failed migration, so an empty list when the database cannot be asked."""
    with suppress(Exception):  # best effort: never hide the failure being reported
        conn = connect_database(target, attempts=1)
        try:
            with conn.cursor() as cur:
                rows = history_table(ctx, target).applied(cur)
                return [r.script for r in rows if r.installed_rank > rank and r.success]
        finally:
            conn.close()
    return []
