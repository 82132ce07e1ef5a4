"""`env up` and `env down`: the main job, composed from the shared steps.

Up: validate → each stack in order (the first one's outputs feed the database step; a stack that reads
rendered pipelines gets them rendered just before it) → summary. A failure stops the run and says which
step failed and what this run had already changed; running the same command again continues from there,
since every step skips what is already done.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.commands.guards import refuse_protected
from toolkit.commands.steps import (
    Progress,
    ResourceWatcher,
    applied_since,
    applied_versions,
    existing_outputs,
    history_rank,
    migrate_environment,
    open_stack,
    record_deployed,
    render_pipelines,
    renders_pipelines,
)
from toolkit.commands.steps import validate_environment as validate
from toolkit.commands.targets import database_target, embedded_server, infra_database
from toolkit.config import Environment
from toolkit.database.connection import connect
from toolkit.errors import GuardRefused, ToolkitError
from toolkit.migrations.apply import AppliedStep
from toolkit.terraform.outputs import Output

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
    pipelines_rendered: tuple[str, ...] = ()
    pipelines_changed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.migrations_applied) or any(s.changed for s in self.stacks)


@dataclass(frozen=True)
class EnvDownResult:
    environment: str
    stacks: tuple[StackOutcome, ...]
    database_removed: bool


def plan_file(ctx: Context, env: Environment, stack: str, purpose: str) -> Path:
    return ctx.project.env_state_dir(env) / stack / f"{purpose}.tfplan"


def env_up(ctx: Context, name: str, *, branch: str | None = None) -> EnvUpResult:
    """Validate, apply every stack in order, migrate the database the outputs describe, deploy pipelines."""
    env = ctx.project.environment(name)
    refuse_protected(env, "toolkit env up")
    progress = Progress()
    with progress.step(ctx, "validate"):
        loaded = validate(ctx, env)
        ctx.reporter.note(f"{len(loaded.versioned)} versioned and {len(loaded.repeatable)} repeatable migration(s)")
    if env.ephemeral:
        with progress.step(ctx, "lifecycle record"):
            if _record_ephemeral(ctx, env, branch):
                progress.changed.append(f"lifecycle record of {env.name!r} written")
    outcomes: list[StackOutcome] = []
    outputs_by_stack: dict[str, dict[str, Output]] = {}
    upstream: dict[str, Output] = {}
    migrated = None
    target = None
    rendered = changed_pipelines = ()
    for index, stack_name in enumerate(ctx.project.stack_order):
        if renders_pipelines(env, stack_name):
            with progress.step(ctx, "render pipelines"):
                result = render_pipelines(ctx, env, outputs_by_stack)
                rendered = tuple(f.name for f in result.files)
                changed_pipelines = tuple(f.name for f in result.files if f.changed)
                ctx.reporter.note(f"{len(rendered)} pipeline(s) rendered, {len(changed_pipelines)} changed")
        watcher = ResourceWatcher(stack_name)
        with progress.step(ctx, f"terraform: {stack_name}", partial=watcher.partial):
            outcome, outputs = _apply_stack(ctx, env, stack_name, upstream, watcher)
        outcomes.append(outcome)
        if outcome.changed:
            progress.changed.append(f"stack {stack_name} applied ({watcher.counts() or 'outputs only'})")
        outputs_by_stack[stack_name] = outputs
        upstream.update(outputs)
        if index == 0:
            with progress.step(ctx, "database"):
                target, migrated, applied = _migrate(ctx, env, outputs, loaded, progress)
    with progress.step(ctx, "deployment record"):
        record_deployed(ctx, env, loaded, applied)
    return EnvUpResult(
        environment=env.name,
        engine=ctx.engine.describe(),
        stacks=tuple(outcomes),
        migrations_applied=migrated.applied,
        migrations_already_applied=migrated.already_applied,
        database_url=target.url,
        pipelines_rendered=rendered,
        pipelines_changed=changed_pipelines,
    )


def _record_ephemeral(ctx: Context, env: Environment, branch: str | None) -> bool:
    """The lifecycle record of an ephemeral environment, written the first time; True if written now."""
    from toolkit.commands.environments import ephemeral_store, record_ephemeral

    store = ephemeral_store(ctx)
    if store is None or store.get(env.name) is not None:
        return False
    return record_ephemeral(ctx, env, branch) is not None


def _apply_stack(
    ctx: Context, env: Environment, stack_name: str, upstream: dict[str, Output], watcher: ResourceWatcher
) -> tuple[StackOutcome, dict[str, Output]]:
    with open_stack(ctx, env, stack_name, upstream, create=env.create_workspace) as (stack, created):
        watcher.watch(stack)
        saved = plan_file(ctx, env, stack_name, "up")
        try:
            changed = stack.plan(saved)
            if changed:
                stack.apply(saved)
            else:
                ctx.reporter.note(f"{stack_name}: no changes, apply skipped")
        finally:
            saved.unlink(missing_ok=True)  # a saved plan can hold sensitive values
        outcome = StackOutcome(stack_name, env.name, changed, created, stack.state_resources())
        return outcome, stack.outputs()


def _migrate(ctx: Context, env: Environment, outputs: dict[str, Output], loaded, progress: Progress):
    target = database_target(ctx, env, outputs, start=True)
    conn = connect(target)
    try:
        before = history_rank(ctx, conn)
        try:
            result = migrate_environment(ctx, env, conn, target, outputs, loaded)
        except ToolkitError:
            done = applied_since(ctx, target, before)  # each migration commits on its own
            if done:
                progress.changed.append(f"{len(done)} migration(s) applied: {', '.join(done)}")
            raise
        applied = applied_versions(ctx, conn)
    finally:
        conn.close()
    if result.applied:
        scripts = ", ".join(step.script for step in result.applied)
        progress.changed.append(f"{len(result.applied)} migration(s) applied: {scripts}")
    else:
        ctx.reporter.note("migrations: all applied, nothing to do")
    return target, result, applied


def env_down(ctx: Context, name: str) -> EnvDownResult:
    """Destroy every stack in reverse order; the local database server and its data go too."""
    env = ctx.project.environment(name)
    if env.protected:
        raise GuardRefused(
            f"environment {env.name!r} is protected and is never destroyed by toolkit",
            hint="remove `protected = true` in toolkit.toml through a reviewed change if it really must go",
        )
    outputs_by_stack = existing_outputs(ctx, env)
    outcomes = []
    for stack_name in reversed(ctx.project.stack_order):
        with ctx.reporter.step(f"terraform destroy: {stack_name}"):
            if stack_name not in outputs_by_stack:
                ctx.reporter.note(f"{stack_name}: no workspace {env.name!r}, nothing to destroy")
                outcomes.append(StackOutcome(stack_name, env.name, False))
                continue
            upstream = _upstream_of(ctx, stack_name, outputs_by_stack)
            with open_stack(ctx, env, stack_name, upstream, create=False) as (stack, _):
                saved = plan_file(ctx, env, stack_name, "down")
                try:
                    changed = stack.plan(saved, destroy=True)
                    if changed:
                        stack.apply(saved)
                finally:
                    saved.unlink(missing_ok=True)
                if env.create_workspace:
                    stack.delete_workspace()  # it was made on demand, so it goes with the environment
            outcomes.append(StackOutcome(stack_name, env.name, changed))
    removed = _remove_local_database(ctx, env, outputs_by_stack.get(ctx.project.stack_order[0], {}))
    if env.create_workspace:
        shutil.rmtree(ctx.project.env_state_dir(env), ignore_errors=True)
    if env.ephemeral:
        from toolkit.commands.environments import forget_ephemeral

        forget_ephemeral(ctx, env)
    from toolkit.deployments import deployment_store

    deployment_store(ctx.project, env, ctx.endpoint).delete(env.name)
    return EnvDownResult(environment=env.name, stacks=tuple(outcomes), database_removed=removed)


def _upstream_of(ctx: Context, stack_name: str, outputs_by_stack: dict[str, dict[str, Output]]) -> dict[str, Output]:
    upstream: dict[str, Output] = {}
    for earlier in ctx.project.stack_order[: ctx.project.stack_order.index(stack_name)]:
        upstream.update(outputs_by_stack.get(earlier, {}))
    return upstream


def _remove_local_database(ctx: Context, env: Environment, infra_outputs: dict[str, Output]) -> bool:
    if env.database != "embedded":
        return False
    port, password_file = 0, None
    with contextlib.suppress(ToolkitError):
        db = infra_database(ctx, env, infra_outputs)
        port, password_file = db.port, db.password_file
    removed = False
    with ctx.reporter.step("local database"):
        server_root = ctx.project.env_state_dir(env) / "postgres"
        if server_root.exists():
            embedded_server(ctx, env, port).remove()
            shutil.rmtree(server_root, ignore_errors=True)
            removed = True
        if password_file:  # toolkit made it for this database, so it goes with it
            path = Path(password_file)
            (path if path.is_absolute() else ctx.project.root / path).unlink(missing_ok=True)
    return removed
