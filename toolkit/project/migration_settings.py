"""The `[migrations]` table of toolkit.toml: history table, timeouts, Flyway's switches, the lint's policy."""

from __future__ import annotations

import re
from typing import Any

from toolkit.project.model import MigrationSettings


def read_migrations(reader, raw: Any) -> MigrationSettings:
    """[migrations] of toolkit.toml, checked key by key (`reader` is the loader's, for its messages)."""
    raw = reader.table(raw, "migrations")
    reader.only(
        raw,
        "migrations",
        {
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
        },
    )
    ident = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    table = reader.string(raw, "migrations", "history_table", "flyway_schema_history")
    schema = reader.string(raw, "migrations", "schema", "public")
    for key, value in (("history_table", table), ("schema", schema)):
        if not ident.match(value):
            raise reader.fail(
                f"migrations.{key}",
                f"{value!r} is not a plain SQL identifier",
                hint="letters, digits and _, at most 63 characters",
            )
    timeout = raw.get("lock_timeout_seconds", 60)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise reader.fail("migrations.lock_timeout_seconds", "must be a positive number of seconds")
    durations = {}
    for key, default in (("lock_timeout", "10s"), ("statement_timeout", "0")):
        durations[key] = reader.string(raw, "migrations", key, default)
        if not re.fullmatch(r"\d+\s*(us|ms|s|min|h|d)?", durations[key]):
            raise reader.fail(f"migrations.{key}", f"{durations[key]!r} is not a duration like 10s or 5min")
    out_of_order = reader.boolean(raw, "migrations", "out_of_order")
    engine = reader.string(raw, "migrations", "engine", "postgres")
    if engine not in ("postgres", "mysql"):
        raise reader.fail(
            "migrations.engine", f"{engine!r} is not an engine toolkit migrates", hint="postgres or mysql"
        )
    severity, allow = _lint(reader, raw.get("lint", {}))
    return MigrationSettings(
        engine=engine,
        history_table=table,
        schema=schema,
        lock_timeout_seconds=float(timeout),
        out_of_order=out_of_order,
        placeholders=_placeholders(reader, raw.get("placeholders", {})),
        placeholder_replacement=reader.boolean(raw, "migrations", "placeholder_replacement", True),
        validate_migration_naming=reader.boolean(raw, "migrations", "validate_migration_naming", True),
        lint_severity=severity,
        lint_allow=allow,
        **durations,
    )


def _placeholders(reader, raw: Any) -> dict[str, str]:
    """[migrations.placeholders]: constant values, as Flyway's `flyway.placeholders.<name>`."""
    raw = reader.table(raw, "migrations.placeholders")
    for name, value in raw.items():
        if name.lower().startswith("flyway:"):
            raise reader.fail(f"migrations.placeholders.{name}", "is one of Flyway's built-in placeholders")
        if not isinstance(value, str):
            raise reader.fail(
                f"migrations.placeholders.{name}",
                f"must be a string, not {type(value).__name__}",
                hint=f'write it in quotes: {name} = "{value}"',
            )
    return dict(raw)


def _lint(reader, raw: Any) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """[migrations.lint]: `severity = { rule = "warning" }`, `allow = { "V3__x.sql" = ["drop-column"] }`.
    Rule names and files are checked against the lint and the sql folder when the lint runs."""
    raw = reader.table(raw, "migrations.lint")
    reader.only(raw, "migrations.lint", {"severity", "allow"})
    severity = reader.table(raw.get("severity", {}), "migrations.lint.severity")
    for rule, level in severity.items():
        if level not in ("error", "warning"):
            raise reader.fail(
                f"migrations.lint.severity.{rule}", f"{level!r} is not a severity", hint="error or warning"
            )
    allow = reader.table(raw.get("allow", {}), "migrations.lint.allow")
    for script, rules in allow.items():
        if not (isinstance(rules, list) and rules and all(isinstance(r, str) for r in rules)):
            raise reader.fail(
                f'migrations.lint.allow."{script}"',
                "must be a non-empty list of rule names",
                hint=f'e.g. "{script}" = ["drop-column"]',
            )
    return dict(severity), {script: tuple(rules) for script, rules in allow.items()}
