"""values(ENV) = the environment's tfvars ∪ its stacks' outputs, each value with its source.

The one resolver behind migration placeholders, pipeline rendering and `toolkit values`. Outputs win
over a tfvars key of the same name (they are what was actually built). A sensitive value (a sensitive
output, or a tfvars key whose variable is declared sensitive) keeps its flag to every printer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from toolkit.project.model import Environment
from toolkit.project.varfiles import read_var_values
from toolkit.support import masking
from toolkit.support.paths import shown as display_path

ENVIRONMENT_KEY = "environment"


class OutputLike(Protocol):
    """A stack output as values(ENV) needs it (`toolkit.terraform.outputs.Output`)."""

    value: Any
    sensitive: bool


@dataclass(frozen=True)
class Value:
    name: str
    value: Any
    source: str  # "tfvars/dev.tfvars.json", "output infra.database", "toolkit"
    sensitive: bool = False

    def shown(self) -> str:
        """The value as text for people: masked when sensitive."""
        if self.sensitive:
            return masking.MASK
        return self.value if isinstance(self.value, str) else json.dumps(self.value, sort_keys=True)


@dataclass(frozen=True)
class Values:
    environment: str
    items: Mapping[str, Value]

    def names(self) -> set[str]:
        return set(self.items)

    def lookup(self, path: str) -> Value | None:
        """`name` or a dotted path into an object value, e.g. `database.host`."""
        head, _, rest = path.partition(".")
        found = self.items.get(head)
        if found is None or not rest:
            return found
        value = found.value
        for part in rest.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return Value(name=path, value=value, source=found.source, sensitive=found.sensitive)


def tfvars_values(env: Environment, project_root: Path, sensitive_names: Iterable[str] = ()) -> dict[str, Value]:
    """The environment's var files merged in their declared order (a later file wins)."""
    sensitive = set(sensitive_names)
    merged: dict[str, Value] = {}
    for path in env.var_files:
        source = display_path(path, project_root)
        for name, value in read_var_values(path, project_root).items():
            merged[name] = Value(name, value, source, name in sensitive)
            if name in sensitive:
                masking.register(value if isinstance(value, str) else None)
    merged[ENVIRONMENT_KEY] = Value(ENVIRONMENT_KEY, env.name, "toolkit")
    return merged


def resolve_values(
    env: Environment,
    project_root: Path,
    outputs_by_stack: Mapping[str, Mapping[str, OutputLike]],
    sensitive_variables: Iterable[str] = (),
) -> Values:
    items = tfvars_values(env, project_root, sensitive_variables)
    for stack, outputs in outputs_by_stack.items():
        for name, output in outputs.items():
            items[name] = Value(name, output.value, f"output {stack}.{name}", output.sensitive)
    return Values(environment=env.name, items=items)
