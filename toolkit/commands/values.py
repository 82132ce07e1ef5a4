"""`toolkit values ENV`: every value the environment resolves, with where it came from; secrets masked."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.rendering import environment_values


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


def values_report(ctx: Context, name: str) -> ValuesReport:
    values, missing = environment_values(ctx, ctx.project.environment(name))
    shown = tuple(
        ShownValue(v.name, v.shown(), v.source, v.sensitive)
        for v in sorted(values.items.values(), key=lambda v: v.name)
    )
    return ValuesReport(values.environment, shown, missing)
