"""`toolkit values ENV`: every value the environment resolves, with where it came from; secrets masked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from toolkit.deploy.context import Context
from toolkit.deploy.rendering import environment_values
from toolkit.support import masking


@dataclass(frozen=True)
class ShownValue:
    name: str
    value: Any  # with its JSON type (a number, an object, …); the mask text when sensitive
    source: str
    sensitive: bool

    def shown(self) -> str:
        """As text for people: strings as they are, everything else as JSON."""
        return self.value if isinstance(self.value, str) else json.dumps(self.value, sort_keys=True)


@dataclass(frozen=True)
class ValuesReport:
    environment: str
    values: tuple[ShownValue, ...]
    missing_stacks: tuple[str, ...]  # stacks without state yet: their outputs are not known


def values_report(ctx: Context, name: str) -> ValuesReport:
    values, missing = environment_values(ctx, ctx.project.environment(name))
    shown = tuple(
        ShownValue(v.name, masking.MASK if v.sensitive else v.value, v.source, v.sensitive)
        for v in sorted(values.items.values(), key=lambda v: v.name)
    )
    return ValuesReport(values.environment, shown, missing)
