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
from typing import Any

from toolkit import secrets
from toolkit.config import Environment
from toolkit.errors import ConfigError
from toolkit.terraform.outputs import Output

ENVIRONMENT_KEY = "environment"


@dataclass(frozen=True)
class Value:
    name: str
    value: Any
    source: str  # "tfvars/dev.tfvars.json", "output infra.database", "toolkit"
    sensitive: bool = False

    def shown(self) -> str:
        """The value as text for people: masked when sensitive."""
        if self.sensitive:
            return secrets.MASK
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


def display_path(path: Path, project_root: Path | None) -> str:
    """A path as users wrote it: relative to the project root when inside it."""
    if project_root is not None and path.is_relative_to(project_root):
        return str(path.relative_to(project_root))
    return str(path)


def read_var_file(path: Path, project_root: Path | None = None) -> dict[str, Any]:
    """One var file (JSON syntax: `*.tfvars.json`), with errors that name the file and line."""
    shown = display_path(path, project_root)
    if not path.name.endswith(".json"):
        raise ConfigError(
            "var files must use Terraform's JSON syntax",
            path=shown,
            hint="rename it to *.tfvars.json and write it as JSON (toolkit and Terraform both read it)",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate escape cannot be encoded
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError(f"not valid JSON at {where}: {exc.msg}", path=shown) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte {exc.start})", path=shown) from None
    except UnicodeEncodeError:
        raise ConfigError("holds a lone surrogate escape (\\ud800-\\udfff), which is not text", path=shown) from None
    except ValueError as exc:  # our hooks, and integers too long to convert
        raise ConfigError(
            f"not valid JSON: {exc}",
            path=shown,
            hint="var files are read as strict JSON: one value per key, numbers only as digits",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=shown) from None
    if not isinstance(data, dict):
        raise ConfigError("must hold a JSON object of variable names to values", path=shown)
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Python's json keeps the last of two equal keys silently; a var file must not say two things."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def tfvars_values(env: Environment, project_root: Path, sensitive_names: Iterable[str] = ()) -> dict[str, Value]:
    """The environment's var files merged in their declared order (a later file wins)."""
    sensitive = set(sensitive_names)
    merged: dict[str, Value] = {}
    for path in env.var_files:
        source = display_path(path, project_root)
        for name, value in read_var_file(path, project_root).items():
            merged[name] = Value(name, value, source, name in sensitive)
            if name in sensitive:
                secrets.register(value if isinstance(value, str) else None)
    merged[ENVIRONMENT_KEY] = Value(ENVIRONMENT_KEY, env.name, "toolkit")
    return merged


def resolve_values(
    env: Environment,
    project_root: Path,
    outputs_by_stack: Mapping[str, Mapping[str, Output]],
    sensitive_variables: Iterable[str] = (),
) -> Values:
    items = tfvars_values(env, project_root, sensitive_variables)
    for stack, outputs in outputs_by_stack.items():
        for name, output in outputs.items():
            items[name] = Value(name, output.value, f"output {stack}.{name}", output.sensitive)
    return Values(environment=env.name, items=items)
