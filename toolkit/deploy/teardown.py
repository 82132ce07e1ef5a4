"""Tearing an environment down: every stack destroyed in reverse order with the outputs it was built from,
then the local database, the working files and the records toolkit keeps for it. `env down` and
`env reap` both run this."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.database import remove_local_database
from toolkit.deploy.emulator import remove_network
from toolkit.deploy.guards import refuse_destroying_protected
from toolkit.deploy.records import deployment_store, forget_ephemeral
from toolkit.deploy.stacks import StackOutcome, destroy_stack, existing_outputs, upstream_of
from toolkit.project.model import Environment


@dataclass(frozen=True)
class EnvDownResult:
    environment: str
    stacks: tuple[StackOutcome, ...]
    database_removed: bool


def tear_down(ctx: Context, env: Environment) -> EnvDownResult:
    """Destroy every stack in reverse order; the local database server and its data go too."""
    refuse_destroying_protected(env)
    # Every stack's outputs first: a later stack is destroyed with the inputs it was built from.
    outputs_by_stack = existing_outputs(ctx, env)
    outcomes = []
    for stack_name in reversed(ctx.project.stack_order):
        with ctx.reporter.step(f"terraform destroy: {stack_name} of {env.name}"):
            if stack_name not in outputs_by_stack:
                ctx.reporter.note(f"{stack_name}: no workspace {env.name!r}, nothing to destroy")
                outcomes.append(StackOutcome(stack_name, env.name, False))
                continue
            changed = destroy_stack(ctx, env, stack_name, upstream_of(ctx, stack_name, outputs_by_stack))
            outcomes.append(StackOutcome(stack_name, env.name, changed))
    removed = remove_local_database(ctx, env, outputs_by_stack.get(ctx.project.stack_order[0], {}))
    if remove_network(ctx, env):
        ctx.reporter.note(f"the emulated network of {env.name!r} removed")
    if env.create_workspace:
        shutil.rmtree(ctx.paths.environment(env.name), ignore_errors=True)
    forget_ephemeral(ctx, env)
    deployment_store(ctx, env).delete(env.name)
    return EnvDownResult(environment=env.name, stacks=tuple(outcomes), database_removed=removed)
