"""What `apply --plan` checks in each saved plan beyond its manifest: the code it was made from (the
configuration Terraform keeps inside the `.tfplan`, against the checkout), the workspace and state it
applies to, and the values it was planned with (against what this checkout passes now)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toolkit.adapters.aws.emulator import emulator_account_id
from toolkit.bundle.snapshot import code_problems, read_saved_plan, state_problems, variable_problems
from toolkit.deploy.context import Context
from toolkit.deploy.injected import injected_values
from toolkit.project.model import Environment
from toolkit.project.varfiles import read_var_values
from toolkit.terraform.emulator_override import OVERRIDE_NAME, override_content, uses_aws_provider
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.outputs import Output
from toolkit.terraform.sources import LOCK_FILE

# Not compared: the expiry of an ephemeral environment is renewed by every use (a tag, not code), and the
# folder the rendered pipelines are read from has a check of its own with a clearer message.
_RENEWED = ("expires_at", "rendered_pipelines_dir")


def saved_plan_problems(
    ctx: Context,
    env: Environment,
    stack_name: str,
    plan_path: Path,
    shown: Mapping[str, Any],
    *,
    workspace: str,
    lineage: str | None,
    serial: int,
    upstream: Mapping[str, Output],
) -> list[str]:
    """Every way the saved plan was not made from this checkout's code and values for this workspace and
    state (`shown`: its `terraform show -json`)."""
    where = f"stack {stack_name!r}"
    try:
        saved = read_saved_plan(plan_path)
    except ValueError as exc:
        return [f"{where}: the saved plan is {exc}"]
    directory = env.stack_dir(stack_name)
    problems = code_problems(saved, directory, ctx.project.root, directory / LOCK_FILE, _generated(ctx, directory))
    problems += state_problems(saved, workspace=workspace, lineage=lineage, serial=serial)
    expected = expected_variables(ctx, env, stack_name, upstream)
    problems += variable_problems(shown.get("variables") or {}, expected)
    return [f"{where}: {problem}" for problem in problems]


def expected_variables(
    ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output]
) -> dict[str, Any]:
    """The values toolkit passes the stack's declared variables now: its var files merged in order, the
    environment's name, and what it injects (earlier stacks' outputs as they are now, injected folders)."""
    declared = read_stack(env.stack_dir(stack_name)).variables
    values: dict[str, Any] = {}
    for path in ctx.var_files(env):
        values.update(read_var_values(path, ctx.project.root))
    values = {name: value for name, value in values.items() if name in declared}
    values["environment"] = env.name
    values.update(injected_values(ctx, env, stack_name, upstream))
    for name in _RENEWED:
        values.pop(name, None)
    return values


def _generated(ctx: Context, directory: Path) -> dict[str, bytes | None]:
    """Files toolkit writes into the stack only while Terraform runs, with what it would write now."""
    if not uses_aws_provider(directory):
        return {}
    if not ctx.endpoint:
        return {OVERRIDE_NAME: None}
    return {OVERRIDE_NAME: override_content(ctx.endpoint, emulator_account_id(ctx.endpoint)).encode("utf-8")}
