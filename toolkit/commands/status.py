"""`toolkit env status ENV`: where an environment stands, read-only: state, migrations, pipelines deployed
versus the repository, its deployment record and expiry."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.deployment import from_repository
from toolkit.deploy.migrating import databases_plan
from toolkit.deploy.records import deployment_store, expires_at
from toolkit.deploy.rendering import deploys_pipelines, hashes_rendered_now
from toolkit.deploy.stacks import existing_outputs, sensitive_variables
from toolkit.deploy.validation import load_databases
from toolkit.migrations.source import LoadedMigrations
from toolkit.project.model import Environment
from toolkit.project.values import resolve_values
from toolkit.terraform.outputs import Output


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
    loaded = load_databases(ctx)
    infra = existing.get(ctx.project.stack_order[0], {})
    plan = databases_plan(ctx, env, infra, loaded) if infra else None
    expiry = expires_at(ctx, env)
    deployment = deployment_store(ctx, env).get(env.name)
    return EnvStatus(
        env.name,
        env.protected,
        env.ephemeral,
        tuple(stacks),
        plan.applied if plan else None,
        plan.pending or () if plan else (),
        plan.problems if plan else (),
        _pipelines(ctx, env, existing, next(iter(loaded.values())), deployment.pipelines if deployment else {}),
        expiry.isoformat() if expiry else None,
        deployment.deployed_at if deployment else None,
        deployment.git_commit if deployment else None,
    )


def _pipelines(
    ctx: Context,
    env: Environment,
    existing: dict[str, dict[str, Output]],
    loaded: LoadedMigrations,
    deployed_code: dict[str, str],
) -> tuple[PipelineStatus, ...]:
    """Render into a scratch folder and compare each file's hash with what the pipelines stack recorded;
    where they differ, the code fingerprints say whether the code or only the values changed."""
    deployed: dict[str, str] = {}
    for outputs in existing.values():
        if "pipelines" in outputs and isinstance(outputs["pipelines"].value, dict):
            deployed.update(outputs["pipelines"].value)
    if not deployed and not deploys_pipelines(ctx, env):
        return ()
    repo_code = from_repository(ctx, env, loaded).pipelines
    if ctx.project.stack_order[0] not in existing:
        # Not up (never, or torn down): no outputs to render with, and nothing deployed to compare with.
        return tuple(
            PipelineStatus(key, "not deployed", None, None, None, code) for key, code in sorted(repo_code.items())
        )
    repo = hashes_rendered_now(ctx, resolve_values(env, ctx.project.root, existing, sensitive_variables(env)))
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
