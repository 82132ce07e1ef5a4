"""The `toolkit` command line: parses options, calls one library function, renders its result.

Heavy modules (boto3, psycopg2, rich, the command implementations) are imported inside the commands,
so `toolkit --help` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit import __version__
from toolkit.cli import db as db_cli
from toolkit.cli import env as env_cli
from toolkit.cli import pipelines as pipelines_cli
from toolkit.cli import stacks as stacks_cli
from toolkit.cli.base import OPTIONS, ToolkitGroup, command, context, finish
from toolkit.errors import ExitCode

app = typer.Typer(
    name="toolkit",
    cls=ToolkitGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Stand a data environment up the same way every time: validate, Terraform, SQL migrations.",
)
app.add_typer(env_cli.app, name="env")
app.add_typer(db_cli.app, name="db")
app.add_typer(pipelines_cli.app, name="pipelines")
app.add_typer(stacks_cli.app, name="stacks")


def _version(value: bool) -> None:
    if value:
        print(f"toolkit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            "-C",
            help="Project folder (or its toolkit.toml). Default: search upward from here; or TOOLKIT_PROJECT.",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Terraform engine: auto, embedded, terraform, tofu or a path (or TOOLKIT_ENGINE)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every Terraform line.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors.")] = False,
    plain: Annotated[
        bool | None,
        typer.Option("--plain/--fancy", help="Plain timestamped progress (default: under CI, or with no terminal)."),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    from toolkit.cli.output import configure_logging

    OPTIONS.project, OPTIONS.engine, OPTIONS.debug = project, engine, debug
    OPTIONS.verbose, OPTIONS.quiet, OPTIONS.plain = verbose, quiet, plain
    configure_logging(verbose, quiet)


@app.command("plan")
@command
def plan(
    env: Annotated[str, typer.Argument(help="Environment name.")] = "local",
    out: Annotated[
        Path | None,
        typer.Option(help="Write a plan bundle here (saved plans, manifest, summary.md) for `toolkit apply --plan`."),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when none.")
    ] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint for every AWS call.")] = None,
    branch: Annotated[
        str | None, typer.Option(help="With --out: branch recorded with a new ephemeral environment.")
    ] = None,
) -> None:
    """Show what `env up` would change, without changing anything (--out: save it for review)."""
    from toolkit.cli.output import print_json, print_text

    if out is not None:
        from toolkit.commands.plan_bundle import plan_bundle

        bundle = plan_bundle(context(endpoint), env, out, branch=branch)
        if json:
            print_json(bundle)
        else:
            print_text((Path(bundle.folder) / "summary.md").read_text())
        finish(2 if detailed_exitcode and bundle.has_changes else 0)
        return
    from toolkit.commands.status import env_plan

    result = env_plan(context(endpoint), env)
    if json:
        print_json(result)
    else:
        verdict = "changes pending" if result.has_changes else "no changes"
        lines = [f"environment {result.environment}: {verdict}"]
        for stack in result.stacks:
            lines.append(f"  stack       {stack.stack}: {'changes' if stack.changed else 'no changes'}")
        if result.pending_migrations is None:
            lines.append("  migrations  unknown (database not reachable)")
        else:
            lines.append(f"  migrations  {len(result.pending_migrations)} pending")
            lines.extend(f"    {script}" for script in result.pending_migrations)
        lines.extend(f"  problem     {problem}" for problem in result.migration_problems)
        print_text("\n".join(lines))
    finish(2 if detailed_exitcode and result.has_changes else 0)


@app.command("apply")
@command
def apply(
    env: Annotated[str, typer.Argument(help="Environment name.")],
    plan_dir: Annotated[Path, typer.Option("--plan", help="The plan bundle made by `toolkit plan ENV --out DIR`.")],
    allow_destroy: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-destroy", help="Resource address whose delete/replace is allowed (protected environments)."
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint for every AWS call.")] = None,
) -> None:
    """Apply exactly a reviewed plan bundle, after checking nothing moved since it was made."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.apply_bundle import apply_bundle

    result = apply_bundle(context(endpoint), env, plan_dir, set(allow_destroy or ()))
    if json:
        print_json(result)
        return
    print_text(
        f"environment {result.environment}: applied {', '.join(result.applied_stacks) or 'no stack'}"
        + (f" (unchanged: {', '.join(result.unchanged_stacks)})" if result.unchanged_stacks else "")
        + f"; {len(result.migrations_applied)} migration(s) applied"
        + "".join(
            f"\n  deferred {stack}: {reason}; plan again (toolkit plan {result.environment} --out DIR) and apply that"
            for stack, reason in result.deferred.items()
        )
        + "".join(f"\n  warning: {warning}" for warning in result.warnings)
    )


@app.command("bootstrap")
@command
def bootstrap(
    env: Annotated[str, typer.Argument(help="Environment whose S3 state bucket to create or harden.")],
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint (moto server, LocalStack).")] = None,
) -> None:
    """Create the state bucket idempotently: versioning, encryption, no public access, TLS only, locking."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.environments import bootstrap as run_bootstrap

    result = run_bootstrap(context(endpoint), env)
    if json:
        print_json(result)
    else:
        print_text(
            f"state bucket {result.bucket} ({result.region}): {'created' if result.created else 'exists'}; "
            f"ensured {', '.join(result.settings)}"
        )


@app.command("values")
@command
def values(
    env: Annotated[str, typer.Argument(help="Environment name.")] = "local",
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint for every AWS call.")] = None,
) -> None:
    """The environment's resolved values (tfvars and Terraform outputs) with their source; secrets masked."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.values import values_report

    report = values_report(context(endpoint), env)
    if json:
        print_json(report)
        return
    width = max((len(v.name) for v in report.values), default=4)
    lines = [f"{v.name:<{width}}  {v.value}    ({v.source})" for v in report.values]
    lines += [f"(stack {s} has no state yet: its outputs are not known)" for s in report.missing_stacks]
    print_text("\n".join(lines))


@app.command("promote-check")
@command
def promote_check(
    source: Annotated[str, typer.Argument(metavar="FROM", help="The environment that was tested, e.g. qa.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="The environment about to receive it, e.g. prod.")],
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint for every AWS call.")] = None,
) -> None:
    """Pass only if TO would receive exactly the migrations, pipeline code and stack code FROM runs."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.promote import promote_check as check

    result = check(context(endpoint), source, target)
    if json:
        print_json(result)
    elif result.ok:
        print_text(
            f"promote {result.source} -> {result.target}: ok, {result.target} would receive exactly what "
            f"{result.source} runs (deployed {result.source_deployed_at}, commit {result.source_commit})"
        )
    else:
        print_text(
            f"promote {result.source} -> {result.target}: {len(result.differences)} difference(s)\n"
            + "\n".join(f"  - {d}" for d in result.differences)
        )
    finish(0 if result.ok else 1)


@app.command("drift")
@command
def drift(
    env: Annotated[str, typer.Argument(help="Environment name.")],
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint for every AWS call.")] = None,
) -> None:
    """Changes made outside toolkit: Terraform refresh-only plan of every stack, and the live schema."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.drift import env_drift

    report = env_drift(context(endpoint), env)
    if json:
        print_json(report)
    else:
        lines = [f"environment {report.environment}: {'DRIFT' if report.drifted else 'no drift'}"]
        for stack in report.stacks:
            lines += [f"  stack {stack.stack}: {line} (changed outside Terraform)" for line in stack.drifted]
            lines += [f"  stack {stack.stack}: {line} (state differs from the code)" for line in stack.pending]
        lines += [f"  database: {line}" for line in report.database]
        lines += [f"  database: {line} (pending, not drift)" for line in report.database_pending]
        lines += [f"  warning: {line}" for line in report.warnings]
        print_text("\n".join(lines))
    finish(1 if report.drifted else 0)


@app.command("doctor")
@command
def doctor(
    env: Annotated[str | None, typer.Argument(help="Also check this environment's database.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint to check instead of AWS.")] = None,
) -> None:
    """Which Terraform engine runs, and whether PostgreSQL and AWS credentials are usable."""
    from dataclasses import replace

    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.doctor import doctor as run_doctor
    from toolkit.commands.doctor import environment_database
    from toolkit.config import load_project
    from toolkit.errors import ConfigError

    try:
        configured = load_project(OPTIONS.project).terraform.engine
    except ConfigError:
        configured = "auto"  # doctor must work outside a project too
    report = run_doctor(OPTIONS.engine, configured, endpoint)
    if env is not None:
        report = replace(report, checks=(*report.checks, environment_database(context(endpoint, quiet=True), env)))
    if json:
        print_json(report)
    else:
        print_text("\n".join(f"{'ok ' if c.ok else '-- '} {c.name:<20} {c.detail}" for c in report.checks))
    finish(0 if report.ok else 3)


def main() -> None:
    try:
        app()
    except SystemExit as exit_:
        if exit_.code == ExitCode.INTERRUPTED:
            # Python's finalization resets every signal it handled to the default action, so a CI
            # runner's follow-up SIGTERM in the last milliseconds would turn exit 130 into -15. Nothing
            # is started after this point, so ignoring them outright (inherited by no child) is safe.
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise


__all__ = ["app", "main", "context"]
