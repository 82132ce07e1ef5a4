"""Flyway's configuration (`flyway.conf` or `flyway.toml`) read into the `[migrations]` settings of toolkit.toml.

What carries over: the one location (`filesystem:` or `classpath:`, a folder below which every file is a
migration), the history table, the default schema (`defaultSchema`, else the first of `schemas`),
placeholders, `placeholderReplacement`, `outOfOrder` and `validateMigrationNaming` (whose default in Flyway
is false). What toolkit cannot honour (other prefixes or suffixes, several locations, other placeholder
delimiters) is an error naming the key; the connection settings are left out on purpose (toolkit connects
with what the environment's Terraform outputs say) and listed as notes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError

# Flyway's defaults for the settings toolkit fixes: a file that changes one cannot be taken over as it is.
_FIXED = {
    "sqlMigrationPrefix": "V",
    "repeatableSqlMigrationPrefix": "R",
    "undoSqlMigrationPrefix": "U",
    "sqlMigrationSeparator": "__",
    "sqlMigrationSuffixes": ".sql",
    "placeholderPrefix": "${",
    "placeholderSuffix": "}",
    "encoding": "UTF-8",
}
_CONNECTION = ("url", "user", "password", "driver", "jdbcProperties")
_TAKEN = {
    "locations",
    "table",
    "schemas",
    "defaultSchema",
    "placeholderReplacement",
    "outOfOrder",
    "validateMigrationNaming",
    "environment",
    *_FIXED,
    *_CONNECTION,
}


@dataclass(frozen=True)
class FlywaySettings:
    """What toolkit.toml gets from a Flyway configuration, and what it leaves out (notes for the user)."""

    sql: str  # the migrations folder, relative to the project root
    history_table: str = "flyway_schema_history"
    schema: str = "public"
    placeholders: dict[str, str] = field(default_factory=dict)
    placeholder_replacement: bool = True
    out_of_order: bool = False
    validate_migration_naming: bool = False  # Flyway's default: names that do not parse are skipped
    engine: str = "postgres"  # "mysql" when flyway.url is a MySQL or MariaDB JDBC URL
    notes: tuple[str, ...] = ()


def read_flyway_config(path: Path, root: Path) -> FlywaySettings:
    """The settings of `flyway.conf` (Java properties) or `flyway.toml` (Flyway 10); paths relative to `root`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the Flyway configuration: {exc}", path=str(path)) from None
    if path.suffix == ".toml":
        try:
            keys = _from_toml(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
    else:
        keys = _from_properties(text)
    return _translate(keys, path, root)


def _from_properties(text: str) -> dict[str, Any]:
    """`flyway.<key>=<value>` lines (also `:` as separator, `#`/`!` comments, `\\` continuations)."""
    keys: dict[str, Any] = {}
    logical = re.sub(r"\\\r?\n[ \t]*", "", text)
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:]\s*(.*)$", line)
        if match is None or not match[1].startswith("flyway."):
            continue
        name, value = match[1].removeprefix("flyway."), match[2].strip()
        if name.startswith("placeholders."):
            keys.setdefault("placeholders", {})[name.removeprefix("placeholders.")] = value
        elif name in ("locations", "schemas"):
            keys[name] = [item.strip() for item in value.split(",") if item.strip()]
        else:
            keys[name] = value
    return keys


def _from_toml(raw: dict[str, Any]) -> dict[str, Any]:
    """Flyway 10's TOML: `[flyway]` keys, and `schemas` of the environment it names (default `default`),
    whose own `[environments.<name>.flyway]` keys win."""
    flyway = dict(raw.get("flyway", {}))
    env_name = flyway.get("environment", "default")
    env = raw.get("environments", {}).get(env_name, {})
    flyway.update(env.get("flyway", {}))
    for key in ("schemas", "url", "user", "password"):
        if key in env:
            flyway[key] = env[key]
    return flyway


def _bool(keys: dict[str, Any], name: str, default: bool, path: Path) -> bool:
    value = keys.get(name, default)
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ConfigError(f"{value!r} is not true or false", path=str(path), key=f"flyway.{name}")


def _translate(keys: dict[str, Any], path: Path, root: Path) -> FlywaySettings:
    for name, default in _FIXED.items():
        value = keys.get(name, default)
        value = ",".join(value) if isinstance(value, list) else str(value)
        if value != default:
            raise ConfigError(
                f"{value!r}: toolkit reads Flyway's default {default!r} only",
                path=str(path),
                key=f"flyway.{name}",
                hint="rename the files (or placeholders) to Flyway's defaults first; toolkit cannot take this over",
            )
    schemas = keys.get("schemas") or []
    schemas = [schemas] if isinstance(schemas, str) else list(schemas)
    schema = keys.get("defaultSchema") or (schemas[0] if schemas else "public")
    notes = [f"flyway.{name} is not taken over: toolkit connects with the environment's Terraform outputs"
             for name in _CONNECTION if name in keys]  # fmt: skip
    notes += [f"flyway.{name} is not taken over (toolkit has no such setting)" for name in sorted(keys)
              if name not in _TAKEN and name != "placeholders"]  # fmt: skip
    if len(schemas) > 1:
        notes.append(f"flyway.schemas: only {schema!r} is the default schema; toolkit manages no other")
    placeholders = {str(k): str(v) for k, v in (keys.get("placeholders") or {}).items()}
    engine = "mysql" if str(keys.get("url", "")).lower().startswith(("jdbc:mysql:", "jdbc:mariadb:")) else "postgres"
    if engine == "mysql":
        schema = str(keys.get("defaultSchema") or (schemas[0] if schemas else "")) or "public"
        notes.append(
            'flyway.url is a MySQL database: engine = "mysql"; its history table is read in the database the '
            "stack's `database` output names, and the local stack's embedded database is PostgreSQL, so point "
            "the environments' `database` output at a MySQL server"
        )
    return FlywaySettings(
        sql=_location(keys.get("locations"), path, root),
        history_table=str(keys.get("table", "flyway_schema_history")),
        schema=str(schema),
        placeholders=placeholders,
        placeholder_replacement=_bool(keys, "placeholderReplacement", True, path),
        out_of_order=_bool(keys, "outOfOrder", False, path),
        validate_migration_naming=_bool(keys, "validateMigrationNaming", False, path),
        engine=engine,
        notes=tuple(notes),
    )


def _location(raw: Any, path: Path, root: Path) -> str:
    """The one folder of `flyway.locations`, relative to the project root (unset: Flyway's defaults, the
    command line's `filesystem:sql` or the Java API's `classpath:db/migration`)."""
    if raw is None or raw == []:
        found = [c for c in ("sql", "src/main/resources/db/migration") if (root / c).is_dir()]
        raw = [f"filesystem:{found[0]}" if found else "filesystem:sql"]
    locations = [raw] if isinstance(raw, str) else list(raw)
    if len(locations) != 1:
        raise ConfigError(
            f"names {len(locations)} locations ({', '.join(locations)}); toolkit reads one folder",
            path=str(path),
            key="flyway.locations",
            hint="move the files under one folder (subfolders are read too), then run init again",
        )
    location = locations[0]
    prefix, _, where = location.rpartition(":")
    if prefix in ("classpath", ""):
        candidates = [root / "src" / "main" / "resources" / where.replace(".", "/").lstrip("/"), root / where]
    elif prefix == "filesystem":
        candidates = [Path(where) if Path(where).is_absolute() else root / where]
    else:
        raise ConfigError(f"{location!r}: toolkit reads filesystem: and classpath: locations", path=str(path),
                          key="flyway.locations")  # fmt: skip
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise ConfigError(
            f"{location!r}: no folder {candidates[0]}",
            path=str(path),
            key="flyway.locations",
            hint="run init in the project's root folder, where Flyway's relative locations start",
        )
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(folder.resolve())
