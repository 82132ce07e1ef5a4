"""`db status|migrate|validate|repair|baseline|lint|drift`: the migration engine against one environment.

Each command connects through the environment's Terraform outputs (password from its file or from
Secrets Manager by the ARN in the outputs) and fills placeholders from values(ENV).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from toolkit.commands.context import Context
from toolkit.commands.guards import refuse_protected
from toolkit.commands.targets import database_target, embedded_server, history_table, stack_outputs
from toolkit.config import Environment
from toolkit.database.connection import DatabaseTarget, connect
from toolkit.errors import MigrationFailed, UsageError, ValidationFailed
from toolkit.migrations import bookkeeping
from toolkit.migrations.apply import MigrateResult, current_plan, database_errors, migrate, migration_lock
from toolkit.migrations.discovery import VERSION_MAX, Version, discover
from toolkit.migrations.drift import (
    ChangedFile,
    Difference,
    applied_subset,
    compare,
    defined_by,
    expected_schema,
    set_aside,
    snapshot,
    version_warning,
)
from toolkit.migrations.lint import LintFinding, lint_sources
from toolkit.migrations.placeholders import Placeholders
from toolkit.migrations.plan import FileState, MigrationPlan
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.terraform.outputs import Output


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

    @property
    def refused(self) -> tuple[LintFinding, ...]:
        return tuple(f for f in self.findings if f.refused)


@dataclass(frozen=True)
class DriftResult:
    environment: str
    differences: tuple[Difference, ...]  # drift: changes made outside the migrations
    warnings: tuple[str, ...] = ()  # e.g. the scratch server is another major version than the database
    pending: tuple[ChangedFile, ...] = ()  # applied files changed since: their differences are not drift


def placeholders_for(
    ctx: Context, env: Environment, outputs: dict[str, Output], target: DatabaseTarget
) -> Placeholders:
    """values(ENV) plus Flyway's built-in placeholders for this connection."""
    from toolkit.terraform.hcl import read_stack
    from toolkit.values import resolve_values

    first = ctx.project.stack_order[0]
    declared = read_stack(env.stack_dir(first))
    sensitive = [v.name for v in declared.variables.values() if v.sensitive]
    values = resolve_values(env, ctx.project.root, {first: outputs}, sensitive)
    settings = ctx.project.migrations
    builtins = {
        "flyway:defaultSchema": settings.schema,
        "flyway:user": target.username,
        "flyway:database": target.name,
        "flyway:table": settings.history_table,
    }
    return Placeholders(values, builtins)


@dataclass
class _Session:
    env: Environment
    conn: object
    target: DatabaseTarget
    placeholders: Placeholders
    migrations: LoadedMigrations

    def plan_options(self, ctx: Context) -> dict:
        return {
            "environment": self.env.name,
            "out_of_order": ctx.project.migrations.out_of_order,
            "placeholders": self.placeholders,
        }


@contextmanager
def _local_terraform_lock(ctx: Context, env: Environment) -> Iterator[None]:
    """Concurrent toolkit runs on one machine share one Terraform data directory; `init` in two of them
    at once fails on the state lock, so reading outputs is serialised between local processes."""
    import fcntl

    path = ctx.project.env_state_dir(env) / "terraform-outputs.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _session(ctx: Context, name: str) -> Iterator[_Session]:
    env = ctx.project.environment(name)
    migrations = load(discover(ctx.project.sql_dir))  # file problems surface before any connection
    with _local_terraform_lock(ctx, env):
        outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
    target = database_target(ctx, env, outputs)
    if env.database == "embedded" and embedded_server(ctx, env, target.port).running_port() is None:
        # Start (and provision) the local server only when it is down: provisioning rewrites the role,
        # which concurrent runs must not all do at once.
        target = database_target(ctx, env, outputs, start=True)
    conn = connect(target)
    try:
        with database_errors(f"database of {env.name}"):
            yield _Session(env, conn, target, placeholders_for(ctx, env, outputs, target), migrations)
    finally:
        conn.close()


def db_status(ctx: Context, name: str) -> StatusResult:
    with _session(ctx, name) as s:
        plan: MigrationPlan = current_plan(s.conn, s.migrations, history_table(ctx), **s.plan_options(ctx))
    return StatusResult(s.env.name, plan.current, plan.states, plan.problems)


def db_validate(ctx: Context, name: str) -> StatusResult:
    """Like status, but fails (exit 1) on any problem: checksums, missing files, out-of-order versions."""
    result = db_status(ctx, name)
    if result.problems:
        raise ValidationFailed(f"{name}: migrations do not validate:", list(result.problems))
    return result


def db_migrate(ctx: Context, name: str, *, dry_run: bool = False) -> MigrateResult:
    settings = ctx.project.migrations
    if not dry_run:
        refuse_protected(ctx.project.environment(name), "toolkit db migrate")
    with _session(ctx, name) as s, ctx.reporter.step("migrations" + (" (dry run)" if dry_run else "")):
        return migrate(
            s.conn,
            s.migrations,
            history_table(ctx),
            lock_timeout_seconds=settings.lock_timeout_seconds,
            on_event=ctx.reporter.detail,
            lock_timeout=settings.lock_timeout,
            statement_timeout=settings.statement_timeout,
            dry_run=dry_run,
            **s.plan_options(ctx),
        )


def db_repair(ctx: Context, name: str) -> RepairResult:
    """Remove failed rows and realign checksums and descriptions of applied files (Flyway's repair)."""
    refuse_protected(ctx.project.environment(name), "toolkit db repair")
    history = history_table(ctx)
    with (
        _session(ctx, name) as s,
        migration_lock(s.conn, history, ctx.project.migrations.lock_timeout_seconds),
    ):
        by_version = {m.file.version: m for m in s.migrations.versioned}
        realigned = []
        with s.conn.cursor() as cur:
            bookkeeping.ensure(cur, history)
            cur.execute("BEGIN")
            removed = history.delete_failed(cur)
            # Only what the database has now: a run Flyway undid or a DELETE row removed is history,
            # and an undo row's checksum is its U file's, never the V file's.
            for row in history.applied(cur):
                source = by_version.get(row.version) if row.version is not None else None
                if source and row.type == "SQL" and row.success and row.checksum != source.checksum:
                    history.realign(
                        cur, row.installed_rank, checksum=source.checksum, description=source.file.description
                    )
                    realigned.append(row.script)
            cur.execute("COMMIT")
    return RepairResult(s.env.name, tuple(removed), tuple(realigned))


def db_baseline(ctx: Context, name: str, version: str, description: str = "<< Flyway Baseline >>") -> BaselineResult:
    """Mark an existing database as being at `version`: files up to it are never run."""
    refuse_protected(ctx.project.environment(name), "toolkit db baseline")
    try:
        parsed = Version.parse(version)
    except ValueError as exc:
        raise UsageError(f"--version: {exc}") from None
    if len(parsed.text) > VERSION_MAX:
        raise UsageError(f"--version: {version!r} is longer than the {VERSION_MAX} characters the history table holds")
    history = history_table(ctx)
    with (
        _session(ctx, name) as s,
        migration_lock(s.conn, history, ctx.project.migrations.lock_timeout_seconds),
        s.conn.cursor() as cur,
    ):
        bookkeeping.ensure(cur, history)
        # Flyway's SCHEMA row only says it created the schema: such a database is still untouched.
        if any(row.type != "SCHEMA" for row in history.rows(cur)):
            raise MigrationFailed(
                f"{history.name} in {name} already has rows; a baseline is only for a database "
                "that no migration has touched yet",
                hint="see `toolkit db status`",
            )
        history.record(
            cur,
            version=parsed,
            description=description,
            type_="BASELINE",
            script=description,
            checksum=None,
            execution_ms=0,
            success=True,
        )
    return BaselineResult(s.env.name, str(parsed))


def db_lint(ctx: Context) -> LintResult:
    """Destructive-change findings in every migration file, in order (no database needed)."""
    loaded = load(discover(ctx.project.sql_dir))
    return LintResult(tuple(lint_sources(loaded, ctx.project.migrations.schema)))


def lint_files(loaded: LoadedMigrations, default_schema: str = "public") -> None:
    """For `env up`'s validate step: refuse unannotated destructive changes before Terraform runs."""
    refused = [f for f in lint_sources(loaded, default_schema) if f.refused]
    if refused:
        raise ValidationFailed(
            "destructive changes without an allow annotation:",
            [str(f) for f in refused],
            hint="if intended, put `-- toolkit:allow=<rule>` at the top of the file (docs/migrations.md)",
        )


def db_drift(ctx: Context, name: str) -> DriftResult:
    """Differences between the live schema and what the applied migrations build on an empty database."""
    history = history_table(ctx)
    with _session(ctx, name) as s:
        with s.conn.cursor() as cur:
            applied = history.applied(cur)
        changed = _changed_since_applied(s, applied, s.plan_options(ctx))
        actual = snapshot(s.conn, history)
        with ctx.reporter.step("scratch PostgreSQL: apply the applied migrations"):
            try:
                expected, scratch_version = expected_schema(
                    applied_subset(s.migrations, applied),
                    history,
                    username=s.target.username,
                    environment=s.env.name,
                    placeholders=s.placeholders,
                    workdir=ctx.project.state_dir if ctx.project.state_dir.is_dir() else None,
                )
            except MigrationFailed as exc:
                raise MigrationFailed(
                    f"the applied migrations do not rebuild on an empty database: {exc.message}",
                    hint="drift needs the migrations to build the schema from nothing; fix that file "
                    "(or baseline the environment) first",
                ) from None
    warning = version_warning(s.conn.server_version, scratch_version)
    drift, pending = set_aside(compare(expected, actual), {script: defined for script, _, defined in changed})
    files = tuple(ChangedFile(script, reason, tuple(pending[script])) for script, reason, _ in changed)
    return DriftResult(s.env.name, tuple(drift), (warning,) if warning else (), files)


def _changed_since_applied(s: _Session, applied, options: dict) -> list[tuple[str, str, set]]:
    """Applied files whose text is not what ran (script, why, what they define): the scratch server
    can only build them as they are now, so what they define differs without anyone having drifted."""
    from toolkit.migrations.placeholders import fill
    from toolkit.migrations.plan import plan_migrations
    from toolkit.migrations.sqlsplit import SplitError

    plan = plan_migrations(s.migrations, applied, **options)
    sources = {source.script: source for source in s.migrations}
    found = [
        (p.file.script, "changed since it was applied; it runs again on the next migrate")
        for p in plan.pending
        if p.file.version is None and p.reason == "changed"
    ]
    found += [
        (f.script, "changed after it was applied (checksum mismatch; see `toolkit db validate`)")
        for f in plan.states
        if f.state == "checksum mismatch"
    ]
    out = []
    for script, why in found:
        try:
            statements = [fill(st.sql, s.placeholders)[0] for st in sources[script].statements]
        except SplitError:
            statements = []
        out.append((script, why, defined_by(statements)))
    return out
