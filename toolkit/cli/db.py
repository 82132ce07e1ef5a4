"""`toolkit db ...`: status, migrate, validate, repair, baseline, lint and drift of one environment."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli.base import command, context, finish

app = typer.Typer(no_args_is_help=True, help="SQL migrations of an environment's database (Flyway-compatible).")

EnvArg = Annotated[str, typer.Argument(help="Environment name from toolkit.toml (e.g. local, dev, pr-7).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Send every AWS call to this local endpoint (moto server, LocalStack)."),
]


@app.command("status")
@command
def status(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Applied, pending, failed and changed migrations (exit 0; `validate` fails on problems)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_status

    result = db_status(context(endpoint), env)
    if json:
        print_json(result)
        return
    lines = [f"environment {result.environment}: at version {result.current or '(none)'}, {result.pending} pending"]
    lines.append(f"  {'VERSION':<10} {'STATE':<18} SCRIPT")
    for f in result.files:
        lines.append(f"  {f.version or 'R':<10} {f.state:<18} {f.script}")
    lines.extend(f"  problem: {p}" for p in result.problems)
    print_text("\n".join(lines))


@app.command("migrate")
@command
def migrate(
    env: EnvArg = "local",
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the exact SQL that would run (secrets masked); change nothing."),
    ] = False,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
) -> None:
    """Apply pending migrations, each in its own transaction, under the migration lock (protected
    environments: only with --dry-run; they change through `toolkit apply --plan`)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_migrate

    result = db_migrate(context(endpoint), env, dry_run=dry_run)
    if json:
        print_json(result)
        return
    if dry_run:
        parts = [f"-- {len(result.would_apply)} migration(s) would run; nothing was changed"]
        for step in result.would_apply:
            mode = "" if step.transactional else ", outside a transaction"
            parts.append(f"\n-- {step.script} ({step.reason}{mode})\n{step.sql}")
        print_text("\n".join(parts))
        return
    lines = [f"{len(result.applied)} applied now, {result.already_applied} before"]
    lines.extend(f"  {s.script} ({s.milliseconds} ms)" for s in result.applied)
    print_text("\n".join(lines))


@app.command("validate")
@command
def validate(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Fail (exit 1) on checksum mismatches, missing files, failed or out-of-order migrations."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_validate

    result = db_validate(context(endpoint), env)
    if json:
        print_json(result)
    else:
        print_text(f"environment {result.environment}: migrations valid, {result.pending} pending")


@app.command("repair")
@command
def repair(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Remove failed-migration rows and realign checksums of applied files (not in protected environments)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_repair

    result = db_repair(context(endpoint), env)
    if json:
        print_json(result)
        return
    lines = [f"environment {result.environment}: repaired"]
    lines.extend(f"  removed failed row: {s}" for s in result.removed_failed)
    lines.extend(f"  realigned checksum: {s}" for s in result.realigned)
    if len(lines) == 1:
        lines[0] = f"environment {result.environment}: nothing to repair"
    print_text("\n".join(lines))


@app.command("baseline")
@command
def baseline(
    env: EnvArg = "local",
    version: Annotated[str, typer.Option("--version", help="The version the database is already at.")] = ...,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
) -> None:
    """Mark a database that predates the migrations as being at --version (not in protected environments)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_baseline

    result = db_baseline(context(endpoint), env, version)
    if json:
        print_json(result)
    else:
        print_text(f"environment {result.environment}: baselined at version {result.version}")


@app.command("lint")
@command
def lint(json: JsonOpt = False) -> None:
    """Destructive changes in the migration files, with file and line (exit 1 if any is refused)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_lint

    result = db_lint(context())
    if json:
        print_json(result)
    else:
        lines = [f"{f}{' (allowed)' if f.allowed else ''}" for f in result.findings]
        print_text("\n".join(lines) if lines else "no destructive changes found")
    finish(1 if result.refused else 0)


@app.command("drift")
@command
def drift(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Compare the live schema with what the applied migrations build (exit 1 on drift)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.db import db_drift

    result = db_drift(context(endpoint), env)
    if json:
        print_json(result)
    else:
        lines = [f"environment {result.environment}: {len(result.differences)} difference(s)"]
        lines.extend(f"  {d}" for d in result.differences)
        if not result.differences:
            lines = [f"environment {result.environment}: no drift"]
        for changed in result.pending:
            lines.append(f"  pending, not drift: {changed}")
            lines.extend(f"    {d}" for d in changed.differences)
        lines.extend(f"  warning: {w}" for w in result.warnings)
        print_text("\n".join(lines))
    finish(1 if result.differences else 0)
