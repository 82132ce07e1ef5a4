"""The typed output contract of an infrastructure stack, checked when outputs are read.

Both `terraform/local` and `terraform/aws` must produce these outputs with these types; the migration
step and the values resolver only ever see them through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.errors import ConfigError
from toolkit.support import masking


@dataclass(frozen=True)
class Output:
    name: str
    value: Any
    sensitive: bool


@dataclass(frozen=True)
class DatabaseOutput:
    engine: str
    host: str
    port: int
    name: str
    username: str
    password_secret_arn: str | None
    password_file: str | None


DATABASE_FIELDS: dict[str, tuple[type, ...]] = {
    "engine": (str,),
    "host": (str,),
    "port": (int,),
    "name": (str,),
    "username": (str,),
    "password_secret_arn": (str, type(None)),
    "password_file": (str, type(None)),
}


DATABASE_ENGINES = ("postgres", "mysql")  # migrations/engine.py dispatches on these


def parse_outputs(raw: dict[str, Any]) -> dict[str, Output]:
    """`terraform output -json` → Output objects; sensitive values are registered for masking."""
    outputs = {}
    for name, body in raw.items():
        sensitive = bool(body.get("sensitive", False))
        if sensitive:
            _register_leaves(body.get("value"))
        outputs[name] = Output(name=name, value=body.get("value"), sensitive=sensitive)
    return outputs


def _register_leaves(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _register_leaves(item)
    elif isinstance(value, list):
        for item in value:
            _register_leaves(item)
    else:
        masking.register(str(value) if value is not None else None)


def database_output(outputs: dict[str, Output], *, stack: str, environment: str) -> DatabaseOutput:
    """The `database` object, with every field of the contract present and of the right type."""
    where = f"stack {stack!r} (environment {environment!r})"
    if "database" not in outputs:
        raise ConfigError(
            f"{where} has no output 'database'",
            hint='declare output "database" as the output contract requires '
            "(engine, host, port, name, username, password_secret_arn, password_file)",
        )
    value = outputs["database"].value
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: output 'database' must be an object, not {type(value).__name__}")
    fields: dict[str, Any] = {}
    for key, types in DATABASE_FIELDS.items():
        if key not in value:
            raise ConfigError(f"{where}: output 'database' lacks the attribute {key!r}")
        item = value[key]
        if key == "port" and isinstance(item, float) and item.is_integer():
            item = int(item)
        if not isinstance(item, types) or isinstance(item, bool):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ConfigError(f"{where}: output 'database.{key}' must be {expected}, not {type(item).__name__}")
        fields[key] = item
    if fields["engine"] not in DATABASE_ENGINES:
        raise ConfigError(
            f"{where}: database engine {fields['engine']!r} is not supported",
            hint='toolkit migrates PostgreSQL (engine = "postgres") and MySQL (engine = "mysql")',
        )
    return DatabaseOutput(**fields)
