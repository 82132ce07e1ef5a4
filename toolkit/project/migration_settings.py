"""The databases of toolkit.toml: `[databases.<name>]` tables (engine, migrations folder, order, settings), or
the one-database form `[migrations]`; each with its history table, timeouts, Flyway's switches, lint policy."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.project.model import DATABASE_ENGINES, DEFAULT_DATABASE, Database, MigrationSettings

DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


SETTING_KEYS = {
    "engine",
    "history_table",
    "schema",
    "lock_timeout_seconds",
    "lock_timeout",
    "statement_timeout",
    "out_of_order",
    "placeholders",
    "placeholder_replacement",
    "validate_migration_naming",
    "lint",
}


def read_migrations(
    reader, raw: Any, key: str = "migrations", extra: frozenset[str] = frozenset()
) -> MigrationSettings:
    """[migrations] (or a [databases.<name>] table, `key`) of toolkit.toml, checked key by key (`reader` is
    the loader's, for its messages); `extra` keys are read by the caller."""
    raw = reader.table(raw, key)
    reader.only(raw, key, SETTING_KEYS | extra)
    ident = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    table = reader.string(raw, key, "history_table", "flyway_schema_history")
    schema = reader.string(raw, key, "schema", "public")
    for name, value in (("history_table", table), ("schema", schema)):
        if not ident.match(value):
            raise reader.fail(
                f"{key}.{name}",
                f"{value!r} is not a plain SQL identifier",
                hint="letters, digits and _, at most 63 characters",
            )
    timeout = raw.get("lock_timeout_seconds", 60)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise reader.fail(f"{key}.lock_timeout_seconds", "must be a positive number of seconds")
    durations = {}
    for name, default in (("lock_timeout", "10s"), ("statement_timeout", "0")):
        durations[name] = reader.string(raw, key, name, default)
        if not re.fullmatch(r"\d+\s*(us|ms|s|min|h|d)?", durations[name]):
            raise reader.fail(f"{key}.{name}", f"{durations[name]!r} is not a duration like 10s or 5min")
    out_of_order = reader.boolean(raw, key, "out_of_order")
    engine = reader.string(raw, key, "engine", "postgres")
    if engine not in DATABASE_ENGINES:
        raise reader.fail(f"{key}.engine", f"{engine!r} is not an engine toolkit migrates", hint="postgres or mysql")
    severity, allow = _lint(reader, raw.get("lint", {}), key)
    return MigrationSettings(
        engine=engine,
        history_table=table,
        schema=schema,
        lock_timeout_seconds=float(timeout),
        out_of_order=out_of_order,
        placeholders=_placeholders(reader, raw.get("placeholders", {}), key),
        placeholder_replacement=reader.boolean(raw, key, "placeholder_replacement", True),
        validate_migration_naming=reader.boolean(raw, key, "validate_migration_naming", True),
        lint_severity=severity,
        lint_allow=allow,
        **durations,
    )


def read_databases(reader, raw: dict[str, Any], sql_dir: Path) -> tuple[Database, ...]:
    """Every database of the project in the order it migrates: `[databases.<name>]` in the order declared
    (an `order = N` sorts before that), or the one of `[migrations]` (its folder the project's `sql`)."""
    if "databases" not in raw:
        table = reader.table(raw.get("migrations", {}), "migrations")
        settings = read_migrations(reader, table, extra=frozenset({"database"}))
        name = _name(reader, table.get("database", DEFAULT_DATABASE), "migrations.database")
        return (Database(name, settings.engine, sql_dir, settings),)
    if "migrations" in raw:
        raise reader.fail(
            "migrations",
            "cannot be declared beside [databases]",
            hint="[migrations] is the one-database form; move its settings into each [databases.<name>] table",
        )
    tables = reader.table(raw["databases"], "databases")
    if not tables:
        raise reader.fail("databases", "declares no database", hint='add e.g. [databases.orders] engine = "postgres"')
    found: list[tuple[int, int, Database]] = []
    for position, (name, body) in enumerate(tables.items()):
        key = f"databases.{name}"
        _name(reader, name, key)
        body = reader.table(body, key)
        settings = replace(read_migrations(reader, body, key, frozenset({"sql", "order"})), key=key)
        folder = (reader.root / reader.string(body, key, "sql")).resolve() if "sql" in body else sql_dir / name
        order = body.get("order", 0)
        if not isinstance(order, int) or isinstance(order, bool):
            raise reader.fail(f"{key}.order", f"must be a whole number, not {order!r}", hint="lower numbers first")
        found.append((order, position, Database(name, settings.engine, folder, settings)))
    return tuple(database for _, _, database in sorted(found, key=lambda item: item[:2]))


def _name(reader, name: Any, key: str) -> str:
    if not isinstance(name, str) or not DATABASE_NAME.match(name):
        raise reader.fail(
            key, f"{name!r} is not a database name", hint="lower-case letters, digits and _, at most 40, e.g. orders"
        )
    return name


def _placeholders(reader, raw: Any, key: str) -> dict[str, str]:
    """[migrations.placeholders]: constant values, as Flyway's `flyway.placeholders.<name>`."""
    raw = reader.table(raw, f"{key}.placeholders")
    for name, value in raw.items():
        if name.lower().startswith("flyway:"):
            raise reader.fail(f"{key}.placeholders.{name}", "is one of Flyway's built-in placeholders")
        if not isinstance(value, str):
            raise reader.fail(
                f"{key}.placeholders.{name}",
                f"must be a string, not {type(value).__name__}",
                hint=f'write it in quotes: {name} = "{value}"',
            )
    return dict(raw)


def _lint(reader, raw: Any, key: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """[migrations.lint]: `severity = { rule = "warning" }`, `allow = { "V3__x.sql" = ["drop-column"] }`.
    Rule names and files are checked against the lint and the sql folder when the lint runs."""
    raw = reader.table(raw, f"{key}.lint")
    reader.only(raw, f"{key}.lint", {"severity", "allow"})
    severity = reader.table(raw.get("severity", {}), f"{key}.lint.severity")
    for rule, level in severity.items():
        if level not in ("error", "warning"):
            raise reader.fail(f"{key}.lint.severity.{rule}", f"{level!r} is not a severity", hint="error or warning")
    allow = reader.table(raw.get("allow", {}), f"{key}.lint.allow")
    for script, rules in allow.items():
        if not (isinstance(rules, list) and rules and all(isinstance(r, str) for r in rules)):
            raise reader.fail(
                f'{key}.lint.allow."{script}"',
                "must be a non-empty list of rule names",
                hint=f'e.g. "{script}" = ["drop-column"]',
            )
    return dict(severity), {script: tuple(rules) for script, rules in allow.items()}
