"""`env up`, `env down`, `plan` and `env status`: the main job, composed from the domain packages."""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.commands.db import lint_files, placeholders_for
from toolkit.commands.targets import database_target, embedded_server, history_table, infra_database
from toolkit.config import Environment
from toolkit.database.connection import connect
from toolkit.errors import GuardRefused, ToolkitError
from toolkit.migrations.apply import AppliedStep, current_plan, migrate
from toolkit.migrations.discovery import MigrationSet, discover
from toolkit.migrations.lint import refusals
from toolkit.migrations.source import load
from toolkit.terraform.outputs import Output
from toolkit.terraform.stack import Stack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackOutcome:
    stack: str
    workspace: str
    changed: bool  # the plan had changes and they were applied
    workspace_created: bool = False
    resources: int = 0


@dataclass(frozen=True)
class EnvUpResult:
    environment: str
    engine: str
    stacks: tuple[StackOutcome, ...]
    migrations_applied: tuple[AppliedStep, ...]
    migrations_already_applied: int
    database_url: str

    @property
    def changed(self) -> bool:
        return bool(self.migrations_applied) or any(s.changed for s in self.stacks)


@dataclass(frozen=True)
class EnvDownResult:
    environment: str
    stacks: tuple[StackOutcome, ...]
    database_removed: bool


@dataclass(frozen=True)
class PlanResult:
    environment: str
    stacks: tuple[StackOutcome, ...]  # changed = the plan has changes
    pending_migrations: tuple[str, ...] | None  # None: the database is not reachable yet
    migration_problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_changes(self) -> bool:
        return any(s.changed for s in self.stacks) or bool(self.pending_migrations)


def _plan_file(ctx: Context, env: Environment, stack: str, purpose: str) -> Path:
    return ctx.project.env_state_dir(env) / stack / f"{purpose}.tfplan"


def _prepare(ctx: Context, env: Environment, stack_name: str, *, create: bool) -> tuple[Stack, bool]:
    stack = ctx.stack(env, stack_name)
    stack.init()
    created = stack.select_workspace(create=create)
    return stack, created


def env_up(ctx: Context, name: str, *, branch: str | None = None) -> EnvUpResult:
    """Validate, apply every stack in order, then migrate the database the outputs describe."""
    env = ctx.project.environment(name)
    if env.protected:
        raise GuardRefused(
            f"environment {env.name!r} is protected: it is changed only by a reviewed plan",
            hint=f"toolkit plan {env.name} --out DIR, review DIR/summary.md, then toolkit apply {env.name} --plan DIR",
        )
    reporter = ctx.reporter
    with reporter.step("validate"):
        migrations = load(discover(ctx.project.sql_dir))
        lint_files(migrations)  # destructive changes are refused before Terraform touches anything
        reporter.note(f"{len(migrations.versioned)} migration file(s) found")
    if env.ephemeral:
        from toolkit.commands.environments import record_ephemeral

        record_ephemeral(ctx, env, branch)
    outcomes = []
    infra_outputs: dict[str, Output] = {}
    for stack_name in ctx.project.stack_order:
        with reporter.step(f"terraform: {stack_name}"):
            stack, created = _prepare(ctx, env, stack_name, create=env.create_workspace)
            plan_file = _plan_file(ctx, env, stack_name, "up")
            try:
                changed = stack.plan(plan_file)
                if changed:
                    stack.apply(plan_file)
                else:
                    reporter.note(f"{stack_name}: no changes, apply skipped")
            finally:
                plan_file.unlink(missing_ok=True)  # a saved plan can hold sensitive values
            outputs = stack.outputs()
            if not infra_outputs:
                infra_outputs = outputs
            outcomes.append(StackOutcome(stack_name, env.name, changed, created, stack.state_resources()))
    with reporter.step("database"):
        target = database_target(ctx, env, infra_outputs, start=True)
        conn = connect(target)
        settings = ctx.project.migrations
        try:
            result = migrate(
                conn,
                migrations,
                history_table(ctx),
                lock_timeout_seconds=settings.lock_timeout_seconds,
                on_event=reporter.detail,
                environment=env.name,
                placeholders=placeholders_for(ctx, env, infra_outputs, target),
                out_of_order=settings.out_of_order,
                lock_timeout=settings.lock_timeout,
                statement_timeout=settings.statement_timeout,
            )
        finally:
            conn.close()
        if not result.applied:
            reporter.note("migrations: all applied, nothing to do")
    return EnvUpResult(
        environment=env.name,
        engine=ctx.engine.describe(),
        stacks=tuple(outcomes),
        migrations_applied=result.applied,
        migrations_already_applied=result.already_applied,
        database_url=target.url,
    )


def env_down(ctx: Context, name: str) -> EnvDownResult:
    """Destroy every stack in reverse order; the local database server and its data go too."""
    env = ctx.project.environment(name)
    if env.protected:
        raise GuardRefused(
            f"environment {env.name!r} is protected and is never destroyed by toolkit",
            hint="remove `protected = true` in toolkit.toml through a reviewed change if it really must go",
        )
    outcomes = []
    db_port: int | None = None
    password_file: str | None = None
    for stack_name in reversed(ctx.project.stack_order):
        with ctx.reporter.step(f"terraform destroy: {stack_name}"):
            stack = ctx.stack(env, stack_name)
            stack.init()
            if env.name not in stack.workspaces():
                ctx.reporter.note(f"{stack_name}: no workspace {env.name!r}, nothing to destroy")
                outcomes.append(StackOutcome(stack_name, env.name, False))
                continue
            stack.select_workspace(create=False)
            if stack_name == ctx.project.stack_order[0] and env.database == "embedded":
                with contextlib.suppress(ToolkitError):
                    db = infra_database(ctx, env, stack.outputs())
                    db_port, password_file = db.port, db.password_file
            plan_file = _plan_file(ctx, env, stack_name, "down")
            try:
                changed = stack.plan(plan_file, destroy=True)
                if changed:
                    stack.apply(plan_file)
            finally:
                plan_file.unlink(missing_ok=True)
            if env.create_workspace:
                stack.delete_workspace()  # it was made on demand, so it goes with the environment
            outcomes.append(StackOutcome(stack_name, env.name, changed))
    removed = False
    if env.database == "embedded":
        with ctx.reporter.step("local database"):
            server_root = ctx.project.env_state_dir(env) / "postgres"
            if server_root.exists():
                embedded_server(ctx, env, db_port or 0).remove()
                shutil.rmtree(server_root, ignore_errors=True)
                removed = True
            if password_file:  # toolkit made it for this database, so it goes with it
                path = Path(password_file)
                (path if path.is_absolute() else ctx.project.root / path).unlink(missing_ok=True)
    if env.create_workspace:
        shutil.rmtree(ctx.project.env_state_dir(env), ignore_errors=True)
    if env.ephemeral:
        from toolkit.commands.environments import forget_ephemeral

        forget_ephemeral(ctx, env)
    return EnvDownResult(environment=env.name, stacks=tuple(outcomes), database_removed=removed)


def env_plan(ctx: Context, name: str) -> PlanResult:
    """What `env up` would change: each stack's plan, and pending migrations if the database is up."""
    env = ctx.project.environment(name)
    migrations: MigrationSet = discover(ctx.project.sql_dir)
    outcomes = []
    infra_outputs: dict[str, Output] = {}
    for stack_name in ctx.project.stack_order:
        with ctx.reporter.step(f"terraform plan: {stack_name}"):
            stack = ctx.stack(env, stack_name)
            stack.init()
            exists = env.name in stack.workspaces()
            if not exists and not env.create_workspace:
                stack.select_workspace(create=False)  # raises the "create it with env create" error
            if exists:
                stack.select_workspace(create=False)
                plan_file = _plan_file(ctx, env, stack_name, "plan")
                try:
                    changed = stack.plan(plan_file)
                finally:
                    plan_file.unlink(missing_ok=True)
                if not infra_outputs:
                    infra_outputs = stack.outputs()
            else:
                changed = True  # a new workspace: everything would be created
                ctx.reporter.note(f"{stack_name}: workspace {env.name!r} would be created")
            outcomes.append(StackOutcome(stack_name, env.name, changed))
    pending, problems = None, ()
    if "database" in infra_outputs:
        try:
            target = database_target(ctx, env, infra_outputs, start=False)
            conn = connect(target, attempts=1)
        except ToolkitError as exc:  # an environment not yet up has no database to ask
            ctx.reporter.note(f"database not reachable, pending migrations unknown: {exc}")
        else:
            try:
                plan = current_plan(
                    conn,
                    migrations,
                    history_table(ctx),
                    environment=env.name,
                    out_of_order=ctx.project.migrations.out_of_order,
                    placeholders=placeholders_for(ctx, env, infra_outputs, target),
                )
            finally:
                conn.close()
            pending = tuple(p.file.script for p in plan.pending)
            problems = plan.problems + tuple(refusals(plan.pending))
    else:
        pending = tuple(m.script for m in migrations.versioned)
    return PlanResult(
        environment=env.name,
        stacks=tuple(outcomes),
        pending_migrations=pending,
        migration_problems=tuple(problems),
    )


@dataclass(frozen=True)
class StackStatus:
    stack: str
    workspace_exists: bool
    serial: int = 0
    resources: int = 0


@dataclass(frozen=True)
class EnvStatus:
    environment: str
    protected: bool
    ephemeral: bool
    stacks: tuple[StackStatus, ...]
    migrations_applied: int | None  # None: the database is not reachable
    migrations_pending: tuple[str, ...] = ()
    migration_problems: tuple[str, ...] = ()
    expires_at: str | None = None


def env_status(ctx: Context, name: str) -> EnvStatus:
    """Where an environment stands: its workspaces and state, and its migrations. Changes nothing."""
    env = ctx.project.environment(name)
    stacks = []
    infra_outputs: dict[str, Output] | None = None
    for stack_name in ctx.project.stack_order:
        stack = ctx.stack(env, stack_name)
        stack.init()
        if env.name not in stack.workspaces():
            stacks.append(StackStatus(stack_name, False))
            continue
        stack.select_workspace(create=False)
        _, serial = stack.state_identity()
        stacks.append(StackStatus(stack_name, True, serial, stack.state_resources()))
        if infra_outputs is None:
            infra_outputs = stack.outputs()
    applied, pending, problems = None, (), ()
    if infra_outputs and "database" in infra_outputs:
        try:
            conn = connect(database_target(ctx, env, infra_outputs), attempts=1)
        except ToolkitError as exc:
            ctx.reporter.note(f"database not reachable: {exc.message}")
        else:
            try:
                plan = current_plan(conn, discover(ctx.project.sql_dir), history_table(ctx))
            finally:
                conn.close()
            applied, pending, problems = plan.applied, tuple(p.file.script for p in plan.pending), plan.problems
    expires = None
    if env.ephemeral:
        from toolkit.commands.environments import ephemeral_store

        store = ephemeral_store(ctx)
        record = store.get(env.name) if store else None
        expires = record.expires_at.isoformat() if record else None
    return EnvStatus(env.name, env.protected, env.ephemeral, tuple(stacks), applied, pending, problems, expires)
