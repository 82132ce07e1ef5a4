"""`toolkit plan ENV`: what `env up` would change, without changing anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.deploy.context import Context
from toolkit.deploy.emulator import prepare_environment
from toolkit.deploy.migrating import databases_plan
from toolkit.deploy.records import record_ephemeral
from toolkit.deploy.rendering import scratch_render
from toolkit.deploy.stacks import StackOutcome, existing_outputs, open_stack, saved_plan
from toolkit.deploy.validation import load_databases
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
    env = prepare_environment(ctx, ctx.project.environment(name))  # emulator mode only
    record_ephemeral(ctx, env, None, use="plan", create=False)  # a use: the TTL counts from now
    loaded = load_databases(ctx)
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
            with (
                scratch_render(ctx, env, stack_name, existing) as rendered,
                open_stack(ctx, env, stack_name, upstream, create=False, rendered=rendered) as (stack, _),
                saved_plan(ctx, env, stack_name, "plan") as plan_file,
            ):
                changed = stack.plan(plan_file)
            outcomes.append(StackOutcome(stack_name, env.name, changed))
            upstream.update(existing[stack_name])
    infra = existing.get(ctx.project.stack_order[0], {})
    plan = databases_plan(ctx, env, infra, loaded)  # each script `<database>/…` when there are several
    return PlanResult(env.name, tuple(outcomes), plan.pending, plan.problems)
