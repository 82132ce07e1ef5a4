"""`toolkit db ...`: status, migrate, validate, repair, baseline, lint and drift of one environment."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli import text
from toolkit.cli.console import show
from toolkit.cli.invocation import command, context
from toolkit.cli.options import DatabaseOpt, EmulatorOpt, EndpointOpt, EnvArg, JsonOpt

app = typer.Typer(no_args_is_help=True, help="SQL migrations of an environment's database (Flyway-compatible).")


@app.command("status")
@command
def status(
    env: EnvArg = "local",
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Applied, pending, failed and changed migrations (exit 0; `validate` fails on problems)."""
    from toolkit.commands.db import db_status

    show(db_status(context(endpoint, emulator=emulator), env, database), json, text.each_database(text.db_status))


@app.command("migrate")
@command
def migrate(
    env: EnvArg = "local",
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the exact SQL that would run (secrets masked); change nothing."),
    ] = False,
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Apply pending migrations, each in its own transaction, under the migration lock (protected
    environments: only with --dry-run; they change through `toolkit apply --plan`)."""
    from toolkit.cli import direct

    direct.migrate(env, dry_run, database, json, endpoint, emulator)


@app.command("validate")
@command
def validate(
    env: EnvArg = "local",
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Fail (exit 1) on checksum mismatches, missing files, failed or out-of-order migrations."""
    from toolkit.commands.db import db_validate

    show(db_validate(context(endpoint, emulator=emulator), env, database), json, text.each_database(text.db_validate))


@app.command("repair")
@command
def repair(
    env: EnvArg = "local",
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Remove failed-migration rows and realign checksums of applied files (not in protected environments)."""
    from toolkit.commands.db import db_repair

    show(db_repair(context(endpoint, emulator=emulator), env, database), json, text.each_database(text.db_repair))


@app.command("baseline")
@command
def baseline(
    env: EnvArg = "local",
    version: Annotated[str, typer.Option("--version", help="The version the database is already at.")] = ...,
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Mark a database that predates the migrations as being at --version (not in protected environments)."""
    from toolkit.commands.db import db_baseline

    show(
        db_baseline(context(endpoint, emulator=emulator), env, version, database),
        json,
        text.each_database(text.db_baseline),
    )


@app.command("lint")
@command
def lint(
    env: Annotated[
        str | None,
        typer.Argument(help="Judge against this environment: what is applied there is never refused."),
    ] = None,
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Destructive changes in the migration files, with file and line (exit 1 if any is refused)."""
    from toolkit.commands.db import db_lint

    result = db_lint(context(endpoint, emulator=emulator), env, database)
    refused = result.any("refused") if hasattr(result, "any") else result.refused
    show(result, json, text.each_database(text.db_lint), exit_code=1 if refused else 0)


@app.command("drift")
@command
def drift(
    env: EnvArg = "local",
    database: DatabaseOpt = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Compare the live schema with what the applied migrations build (exit 1 on drift)."""
    from toolkit.commands.db import db_drift

    result = db_drift(context(endpoint, emulator=emulator), env, database)
    drifted = result.any("differences") if hasattr(result, "any") else result.differences
    show(result, json, text.each_database(text.db_drift), exit_code=1 if drifted else 0)
