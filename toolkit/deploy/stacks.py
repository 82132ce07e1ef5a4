"""The stacks of an environment: opened with what toolkit injects, their outputs, and the plan-then-apply
of one stack (apply only when its saved plan changes something; the saved plan never outlives the run)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.deploy.context import Context
from toolkit.errors import EnvironmentNotUp
from toolkit.project.model import Environment
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.outputs import Output

if TYPE_CHECKING:  # reading outputs (every `db` verb) needs neither the injected values nor the progress view
    from toolkit.deploy.progress import ResourceWatcher
    from toolkit.terraform.stack import Stack


@dataclass(frozen=True)
class StackOutcome:
    stack: str
    workspace: str
    changed: bool  # the plan had changes (and, where the verb applies, they were applied)
    workspace_created: bool = False
    resources: int = 0


def renders_pipelines(env: Environment, stack_name: str) -> bool:
    """The stack reads the rendered pipelines (declares `rendered_pipelines_dir`), so they are rendered
    just before it."""
    return "rendered_pipelines_dir" in read_stack(env.stack_dir(stack_name)).variables


def sensitive_variables(env: Environment) -> set[str]:
    """Variables any of the environment's stacks declares `sensitive`: their var-file values are secrets."""
    return {
        name
        for directory in env.stacks.values()
        for name, var in read_stack(directory).variables.items()
        if var.sensitive
    }


@contextmanager
def open_stack(
    ctx: Context,
    env: Environment,
    stack_name: str,
    upstream: Mapping[str, Output],
    *,
    create: bool,
    rendered: Path | None = None,
) -> Iterator[tuple[Stack, bool]]:
    """An initialised stack in the environment's workspace (created if `create` and missing: the bool),
    with values from earlier stacks passed in (and `rendered` as its rendered pipelines folder instead of
    the environment's own). The injected file can hold sensitive upstream outputs: it lives for the block."""
    from toolkit.deploy.injected import write_injected

    inputs = write_injected(ctx, env, stack_name, upstream, rendered)
    try:
        stack = ctx.stack(env, stack_name, inputs)
        stack.init()
        created = stack.select_workspace(create=create)
        yield stack, created
    finally:
        if inputs is not None:
            inputs.unlink(missing_ok=True)


@contextmanager
def saved_plan(ctx: Context, env: Environment, stack_name: str, purpose: str) -> Iterator[Path]:
    """Where a run keeps a stack's saved plan while it needs it; removed after: it can hold secrets."""
    path = ctx.paths.saved_plan(env.name, stack_name, purpose)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def never_deployed(ctx: Context, env: Environment, stack_name: str) -> bool:
    """True when the stack certainly has no workspace for the environment: a local backend without its
    workspace folder (known without running Terraform), in toolkit's layout or, for a stack that declares
    no backend block, Terraform's own (`terraform.tfstate.d/<env>` in the stack's folder). False when it
    has one, or cannot be told."""
    if env.backend.type != "local":
        return False
    places = (
        ctx.paths.local_workspace(stack_name, env.name),
        env.stack_dir(stack_name) / "terraform.tfstate.d" / env.name,
    )
    return not any(place.exists() for place in places)


def stack_outputs(ctx: Context, env: Environment, stack_name: str) -> dict[str, Output]:
    """Outputs of one stack in the environment's (existing) workspace."""
    stack = ctx.stack(env, stack_name)
    if never_deployed(ctx, env, stack_name) or not _initialised_and_selected(stack):
        raise EnvironmentNotUp(
            f"environment {env.name!r} has no workspace in stack {stack_name!r}",
            hint=f"stand it up first: toolkit env up {env.name}",
        )
    return stack.outputs()


def _initialised_and_selected(stack: Stack) -> bool:
    stack.init()
    return stack.select_existing_workspace()


def existing_outputs(ctx: Context, env: Environment) -> dict[str, dict[str, Output]]:
    """Outputs of every stack that has a workspace in this environment (selecting it), in stack order."""
    found: dict[str, dict[str, Output]] = {}
    for stack_name in ctx.project.stack_order:
        if never_deployed(ctx, env, stack_name):
            continue  # no Terraform run to find that out
        stack = ctx.stack(env, stack_name)
        stack.init()
        if stack.select_existing_workspace():
            found[stack_name] = stack.outputs()
    return found


def upstream_of(
    ctx: Context, stack_name: str, outputs_by_stack: Mapping[str, Mapping[str, Output]]
) -> dict[str, Output]:
    """The outputs of every stack before `stack_name`, as a later stack reads them."""
    upstream: dict[str, Output] = {}
    for earlier in ctx.project.stack_order[: ctx.project.stack_order.index(stack_name)]:
        upstream.update(outputs_by_stack.get(earlier, {}))
    return upstream


def apply_stack(
    ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output], watcher: ResourceWatcher
) -> tuple[StackOutcome, dict[str, Output]]:
    """Plan the stack and apply that saved plan only if it changes something; its outputs afterwards."""
    with (
        open_stack(ctx, env, stack_name, upstream, create=env.create_workspace) as (stack, created),
        saved_plan(ctx, env, stack_name, "up") as plan_file,
    ):
        watcher.watch(stack)
        return apply_planned(ctx, env, stack, plan_file, stack.plan(plan_file), created=created)


def apply_planned(
    ctx: Context, env: Environment, stack: Stack, plan_file: Path, changed: bool, *, created: bool = False
) -> tuple[StackOutcome, dict[str, Output]]:
    """The stack's saved plan applied if it changes something (`changed`); its outcome and outputs after."""
    name = stack.target.stack
    if changed:
        stack.apply(plan_file)
    else:
        ctx.reporter.note(f"{name}: no changes, apply skipped")
    return StackOutcome(name, env.name, changed, created, stack.state_resources()), stack.outputs()


def destroy_stack(ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output]) -> bool:
    """Plan the stack's destruction and apply it; a workspace toolkit created goes with it. True if anything
    was destroyed."""
    with (
        open_stack(ctx, env, stack_name, upstream, create=False) as (stack, _),
        saved_plan(ctx, env, stack_name, "down") as plan_file,
    ):
        changed = stack.plan(plan_file, destroy=True)
        if changed:
            stack.apply(plan_file)
        if env.create_workspace:
            stack.delete_workspace()  # it was made on demand, so it goes with the environment
        return changed
