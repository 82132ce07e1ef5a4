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


def database_outputs(
    outputs: dict[str, Output], *, stack: str, environment: str, names: dict[str, str]
) -> dict[str, DatabaseOutput]:
    """The project's databases (`names`: name -> the engine its settings declare) from the `databases` map
    output, or from the one `database` output when the project has one database that the map (if any) does
    not name; every declared one present, every field of the contract present and of the right type, the
    engine one toolkit migrates (deploy/database.py holds it to the database's `engine` setting)."""
    where = f"stack {stack!r} (environment {environment!r})"
    contract = "(engine, host, port, name, username, password_secret_arn, password_file)"
    if "database" in outputs and len(names) == 1 and next(iter(names)) not in _keys(outputs):
        # one database the map (if any) does not name: the map may list databases this project does not use
        found = {name: _database(outputs["database"].value, where, "database") for name in names}
    elif "databases" in outputs:
        value = outputs["databases"].value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: output 'databases' must be a map, not {type(value).__name__}")
        missing = sorted(set(names) - set(value))
        if missing:
            raise ConfigError(
                f"{where}: output 'databases' lacks {', '.join(map(repr, missing))} (it has "
                f"{', '.join(map(repr, sorted(value))) or 'none'})",
                hint="give every database of toolkit.toml an entry in the stack's `databases` output",
            )
        found = {name: _database(value[name], where, f"databases.{name}") for name in names}
    else:
        several = len(names) > 1
        raise ConfigError(
            f"{where} has no output 'databases'" + ("" if several else " or 'database'"),
            hint=f'declare output "databases" = {{ {", ".join(f"{n} = {{...}}" for n in names)} }}, each {contract}'
            if several
            else f'declare output "database" as the output contract requires {contract}',
        )
    for db in found.values():
        if db.engine not in DATABASE_ENGINES:
            raise ConfigError(
                f"{where}: database engine {db.engine!r} is not supported",
                hint='toolkit migrates PostgreSQL (engine = "postgres") and MySQL (engine = "mysql")',
            )
    return found


def _keys(outputs: dict[str, Output]) -> set[str]:
    value = outputs["databases"].value if "databases" in outputs else None
    return set(value) if isinstance(value, dict) else set()


def _database(value: Any, where: str, label: str) -> DatabaseOutput:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: output '{label}' must be an object, not {type(value).__name__}")
    fields: dict[str, Any] = {}
    for key, types in DATABASE_FIELDS.items():
        if key not in value:
            raise ConfigError(f"{where}: output '{label}' lacks the attribute {key!r}")
        item = value[key]
        if key == "port" and isinstance(item, float) and item.is_integer():
            item = int(item)
        if not isinstance(item, types) or isinstance(item, bool):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ConfigError(f"{where}: output '{label}.{key}' must be {expected}, not {type(item).__name__}")
        fields[key] = item
    return DatabaseOutput(**fields)
