"""Read-only views of an environment: `toolkit plan ENV` (what `env up` would change) and `env status`."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.commands.env import StackOutcome, plan_file
from toolkit.commands.steps import (
    database_plan,
    existing_outputs,
    open_stack,
    renders_pipelines,
    scratch_render,
    sensitive_variables,
)
from toolkit.config import Environment
from toolkit.migrations.discovery import discover
from toolkit.migrations.source import load
from toolkit.terraform.outputs import Output


@dataclass(frozen=True)
class PlanResult:
    environment: str
    stacks: tuple[StackOutcome, ...]  # changed = the plan has changes
    pending_migrations: tuple[str, ...] | None  # None: the database is not reachable yet
    migration_problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_changes(self) -> bool:
        return any(s.changed for s in self.stacks) or bool(self.pending_migrations)


def env_plan(ctx: Context, name: str) -> PlanResult:
    """What `env up` would change: each stack's plan against its current inputs, and pending migrations.

    A later stack is planned with the earlier stacks' outputs as they are now; if an earlier stack has
    changes, the later plan may change again once it is applied.
    """
    env = ctx.project.environment(name)
    loaded = load(discover(ctx.project.sql_dir))
    existing = existing_outputs(ctx, env)
    if ctx.project.stack_order[0] not in existing and not env.create_workspace:
        ctx.stack(env, ctx.project.stack_order[0]).select_workspace(create=False)  # "use env create"
    outcomes = []
    upstream: dict[str, Output] = {}
    for stack_name in ctx.project.stack_order:
        with ctx.reporter.step(f"terraform plan: {stack_name}"):
            if stack_name not in existing:
                ctx.reporter.note(f"{stack_name}: workspace {env.name!r} would be created")
                outcomes.append(StackOutcome(stack_name, env.name, True))
                continue
            # rendered into a scratch folder: planning must not touch what env up deployed and compares with
            with (
                scratch_render(ctx, env, stack_name, existing) as rendered,
                open_stack(ctx, env, stack_name, upstream, create=False, rendered=rendered) as (stack, _),
            ):
                saved = plan_file(ctx, env, stack_name, "plan")
                try:
                    changed = stack.plan(saved)
                finally:
                    saved.unlink(missing_ok=True)
            outcomes.append(StackOutcome(stack_name, env.name, changed))
            upstream.update(existing[stack_name])
    infra = existing.get(ctx.project.stack_order[0], {})
    plan = database_plan(ctx, env, infra, loaded) if infra else None
    if plan is None:
        pending = None if infra else tuple(m.script for m in loaded.versioned)
        problems: tuple[str, ...] = ()
    else:
        pending, problems = tuple(p.file.script for p in plan.pending), plan.problems
    return PlanResult(env.name, tuple(outcomes), pending, tuple(problems))


@dataclass(frozen=True)
class StackStatus:
    stack: str
    workspace_exists: bool
    serial: int = 0
    resources: int = 0
    workspace: str | None = None  # the workspace Terraform has selected (whose state was read)


@dataclass(frozen=True)
class PipelineStatus:
    name: str  # "<kind folder>/<name>", as the pipelines stack records it
    state: str  # in sync | code changed | values changed | not deployed | removed from the repo
    deployed_sha256: str | None
    repo_sha256: str | None
    deployed_fingerprint: str | None = None  # of the code deployed (the deployment record), values ignored
    repo_fingerprint: str | None = None  # of the code in this checkout


@dataclass(frozen=True)
class EnvStatus:
    environment: str
    protected: bool
    ephemeral: bool
    stacks: tuple[StackStatus, ...]
    migrations_applied: int | None  # None: the database is not reachable
    migrations_pending: tuple[str, ...] = ()
    migration_problems: tuple[str, ...] = ()
    pipelines: tuple[PipelineStatus, ...] = ()
    expires_at: str | None = None
    deployed_at: str | None = None  # the last complete env up / apply (its deployment record)
    deployed_commit: str | None = None


def env_status(ctx: Context, name: str) -> EnvStatus:
    """Where an environment stands: state, migrations, pipelines deployed versus the repo. Changes nothing."""
    from toolkit.deployments import deployment_store

    env = ctx.project.environment(name)
    existing = existing_outputs(ctx, env)
    stacks = []
    for stack_name in ctx.project.stack_order:
        if stack_name not in existing:
            stacks.append(StackStatus(stack_name, False))
            continue
        stack = ctx.stack(env, stack_name)  # already initialised and selected by existing_outputs
        _, serial = stack.state_identity()
        stacks.append(StackStatus(stack_name, True, serial, stack.state_resources(), stack.selected_workspace()))
    loaded = load(discover(ctx.project.sql_dir))
    infra = existing.get(ctx.project.stack_order[0], {})
    plan = database_plan(ctx, env, infra, loaded) if infra else None
    applied = plan.applied if plan else None
    pending = tuple(p.file.script for p in plan.pending) if plan else ()
    expires = None
    if env.ephemeral:
        from toolkit.commands.environments import ephemeral_store

        store = ephemeral_store(ctx)
        record = store.get(env.name) if store else None
        expires = record.expires_at.isoformat() if record else None
    deployment = deployment_store(ctx.project, env, ctx.endpoint).get(env.name)
    return EnvStatus(
        env.name,
        env.protected,
        env.ephemeral,
        tuple(stacks),
        applied,
        pending,
        tuple(plan.problems) if plan else (),
        _pipelines(ctx, env, existing, loaded, deployment.pipelines if deployment else {}),
        expires,
        deployment.deployed_at if deployment else None,
        deployment.git_commit if deployment else None,
    )


def _pipelines(
    ctx: Context,
    env: Environment,
    existing: dict[str, dict[str, Output]],
    loaded,
    deployed_code: dict[str, str],
) -> tuple[PipelineStatus, ...]:
    """Render into a scratch folder and compare each file's hash with what the pipelines stack recorded;
    where they differ, the code fingerprints say whether the code or only the values changed."""
    from toolkit.deployments import from_repository

    deployed: dict[str, str] = {}
    for outputs in existing.values():
        if "pipelines" in outputs and isinstance(outputs["pipelines"].value, dict):
            deployed.update(outputs["pipelines"].value)
    if not deployed and not any(renders_pipelines(env, s) for s in ctx.project.stack_order):
        return ()
    from toolkit.pipelines import render
    from toolkit.values import resolve_values

    values = resolve_values(env, ctx.project.root, existing, sensitive_variables(env))
    with tempfile.TemporaryDirectory(prefix="toolkit-status-") as scratch:
        render(ctx.project, values, Path(scratch))
        repo = {
            str(path.relative_to(scratch).with_suffix("")): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in Path(scratch).rglob("*.json")
        }
    repo_code = from_repository(ctx.project, env, loaded).pipelines
    rows = []
    for key in sorted(set(deployed) | set(repo)):
        was, now = deployed.get(key), repo.get(key)
        code_was, code_now = deployed_code.get(key), repo_code.get(key)
        if was is None:
            state = "not deployed"
        elif now is None:
            state = "removed from the repo"
        elif was == now:
            state = "in sync"
        else:
            state = "values changed" if code_was is not None and code_was == code_now else "code changed"
        rows.append(PipelineStatus(key, state, was, now, code_was, code_now))
    return tuple(rows)
