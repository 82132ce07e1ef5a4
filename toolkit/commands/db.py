"""`db status|migrate|validate|repair|baseline|lint|drift`: the migration engine against one environment.

Each verb connects through the environment's Terraform outputs (password from its file or from
Secrets Manager by the ARN in the outputs) and fills placeholders from values(ENV).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.deploy.context import Context
from toolkit.deploy.database import history_table, open_session
from toolkit.deploy.database_drift import DriftResult, database_drift
from toolkit.deploy.guards import refuse_protected
from toolkit.deploy.migrating import database_states, lint_policy
from toolkit.deploy.validation import load_migrations
from toolkit.errors import ValidationFailed
from toolkit.migrations.apply import MigrateResult
from toolkit.migrations.engine import baseline, current_plan, lint_sources, migrate, repair, run_findings
from toolkit.migrations.lint import LintFinding
from toolkit.migrations.plan import FileState
from toolkit.migrations.repair import parse_baseline_version


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
    env = ctx.project.environment(name)
    with open_session(ctx, env, load_migrations(ctx)) as s:  # file problems surface before any connection
        plan = current_plan(s.conn, s.migrations, history_table(ctx, s.target), **s.plan_options(ctx))
    return StatusResult(env.name, plan.current, plan.states, plan.problems)


def db_status(ctx: Context, name: str) -> StatusResult:
    """Applied, pending, failed and changed migrations; problems are reported, not raised."""
    return _status(ctx, name)


def db_validate(ctx: Context, name: str) -> StatusResult:
    """Like status, but fails (exit 1) on any problem: checksums, missing files, out-of-order versions."""
    result = _status(ctx, name)
    if result.problems:
        raise ValidationFailed(f"{name}: migrations do not validate:", list(result.problems))
    return result


def db_migrate(ctx: Context, name: str, *, dry_run: bool = False) -> MigrateResult:
    env = ctx.project.environment(name)
    if not dry_run:
        refuse_protected(env, "toolkit db migrate")
    settings = ctx.project.migrations
    with (
        open_session(ctx, env, load_migrations(ctx)) as s,
        ctx.reporter.step("migrations" + (" (dry run)" if dry_run else "")),
    ):
        return migrate(
            s.conn,
            s.migrations,
            history_table(ctx, s.target),
            lock_timeout_seconds=settings.lock_timeout_seconds,
            on_event=ctx.reporter.detail,
            lock_timeout=settings.lock_timeout,
            statement_timeout=settings.statement_timeout,
            dry_run=dry_run,
            lint_policy=lint_policy(ctx, s.migrations),
            **s.plan_options(ctx),
        )


def db_repair(ctx: Context, name: str) -> RepairResult:
    """Remove failed rows and realign checksums and descriptions of applied files (Flyway's repair)."""
    env = ctx.project.environment(name)
    refuse_protected(env, "toolkit db repair")
    with open_session(ctx, env, load_migrations(ctx)) as s:
        removed, realigned = repair(
            s.conn, history_table(ctx, s.target), s.migrations, ctx.project.migrations.lock_timeout_seconds
        )
    return RepairResult(env.name, removed, realigned)


def db_baseline(ctx: Context, name: str, version: str) -> BaselineResult:
    """Mark an existing database as being at `version`: files up to it are never run."""
    env = ctx.project.environment(name)
    refuse_protected(env, "toolkit db baseline")
    parsed = parse_baseline_version(version)
    with open_session(ctx, env, load_migrations(ctx)) as s:
        baseline(s.conn, history_table(ctx, s.target), parsed, ctx.project.migrations.lock_timeout_seconds, where=name)
    return BaselineResult(env.name, str(parsed))


def db_lint(ctx: Context, name: str | None = None) -> LintResult:
    """Destructive-change findings in every migration file, in order, each file judged on its own (no database
    needed). With an environment, what is applied there is history, never refused, and what is pending
    there is judged as the one run `migrate` would make of it."""
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


def db_drift(ctx: Context, name: str) -> DriftResult:
    """Differences between the live schema and what the applied migrations build on an empty database."""
    return database_drift(ctx, ctx.project.environment(name), load_migrations(ctx))
