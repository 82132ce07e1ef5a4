"""`toolkit values ENV`: every value the environment resolves, with where it came from; secrets masked."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.commands.context import Context
from toolkit.commands.targets import EnvironmentNotUp, stack_outputs
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.outputs import Output
from toolkit.values import Values, resolve_values


@dataclass(frozen=True)
class ShownValue:
    name: str
    value: str  # masked when sensitive
    source: str
    sensitive: bool


@dataclass(frozen=True)
class ValuesReport:
    environment: str
    values: tuple[ShownValue, ...]
    missing_stacks: tuple[str, ...]  # stacks without state yet: their outputs are not known


def environment_values(ctx: Context, name: str) -> tuple[Values, tuple[str, ...]]:
    """values(ENV): tfvars ∪ the outputs of every stack that has state; also the stacks that have none."""
    env = ctx.project.environment(name)
    outputs: dict[str, dict[str, Output]] = {}
    missing = []
    sensitive_vars: set[str] = set()
    for stack_name in ctx.project.stack_order:
        declaration = read_stack(env.stack_dir(stack_name))
        sensitive_vars |= {v.name for v in declaration.variables.values() if v.sensitive}
        try:
            outputs[stack_name] = stack_outputs(ctx, env, stack_name)
        except EnvironmentNotUp:
            missing.append(stack_name)
    return resolve_values(env, ctx.project.root, outputs, sensitive_vars), tuple(missing)


def values_report(ctx: Context, name: str) -> ValuesReport:
    values, missing = environment_values(ctx, name)
    shown = tuple(
        ShownValue(v.name, v.shown(), v.source, v.sensitive)
        for v in sorted(values.items.values(), key=lambda v: v.name)
    )
    return ValuesReport(values.environment, shown, missing)
