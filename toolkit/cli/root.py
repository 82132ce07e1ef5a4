"""The root of the command tree: global options, and the commands that act on a whole environment at once
(plan, apply, values, promote-check, drift) or on the machine (bootstrap, doctor)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from toolkit import __version__
from toolkit.cli import text
from toolkit.cli.console import configure_logging, show
from toolkit.cli.invocation import OPTIONS, command, context, optional_context
from toolkit.cli.options import BranchOpt, EmulatorOpt, EndpointOpt, EnvArg, JsonOpt
from toolkit.errors import ExitCode


class ToolkitGroup(TyperGroup):
    """The root command group. Click reports a usage error (unknown option, missing argument) with exit
    2, which toolkit keeps for "changes pending" under --detailed-exitcode, as Terraform does; so a
    usage error leaves with ExitCode.USAGE instead, and a CI job can never take a typo for a plan."""

    def make_context(self, *args, **kwargs):
        with _usage_exit_code():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _usage_exit_code():
            return super().invoke(ctx)


# Click's UsageError, the base of typer.BadParameter (recent typer releases vendor their own click).
_CLICK_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@contextmanager
def _usage_exit_code() -> Iterator[None]:
    try:
        yield
    except _CLICK_USAGE_ERROR as exc:
        exc.exit_code = int(ExitCode.USAGE)
        raise


app = typer.Typer(
    name="toolkit",
    cls=ToolkitGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    help="Stand a data environment up the same way every time: validate, Terraform, SQL migrations.",
)


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
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Use and keep no cache under the state folder (or TOOLKIT_NO_CACHE=1)."),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    OPTIONS.project, OPTIONS.engine, OPTIONS.debug, OPTIONS.no_cache = project, engine, debug, no_cache
    OPTIONS.verbose, OPTIONS.quiet, OPTIONS.plain = verbose, quiet, plain
    configure_logging(verbose, quiet)


@app.command("plan")
@command
def plan(
    env: EnvArg = "local",
    out: Annotated[
        Path | None,
        typer.Option(help="Write a plan bundle here (saved plans, manifest, summary.md) for `toolkit apply --plan`."),
    ] = None,
    json: JsonOpt = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when none.")
    ] = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
    branch: BranchOpt = None,
) -> None:
    """Show what `env up` would change, without changing anything (--out: save it for review)."""
    if out is not None:
        from toolkit.commands.plan_bundle import plan_bundle

        result = plan_bundle(context(endpoint, emulator=emulator), env, out, branch=branch)
        render = text.plan_bundle
    else:
        from toolkit.commands.plan import env_plan

        result = env_plan(context(endpoint, emulator=emulator), env)
        render = text.plan
    show(result, json, render, exit_code=2 if detailed_exitcode and result.has_changes else 0)


@app.command("apply")
@command
def apply(
    env: EnvArg,
    plan_dir: Annotated[Path, typer.Option("--plan", help="The plan bundle made by `toolkit plan ENV --out DIR`.")],
    allow_destroy: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-destroy", help="Resource address whose delete/replace is allowed (protected environments)."
        ),
    ] = None,
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age", help="Refuse a plan made longer ago than this (90m, 24h, 7d): how long an approval may take."
        ),
    ] = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Apply exactly a reviewed plan bundle, after checking nothing moved since it was made."""
    from toolkit.commands.apply_bundle import apply_bundle
    from toolkit.errors import UsageError
    from toolkit.project.durations import parse_duration

    age = parse_duration(max_age, lambda m: UsageError(f"--max-age: {m}")) if max_age is not None else None
    result = apply_bundle(
        context(endpoint, emulator=emulator), env, plan_dir, set(allow_destroy or ()), max_age_seconds=age
    )
    show(result, json, text.apply_bundle)


@app.command("bootstrap")
@command
def bootstrap(
    env: Annotated[str, typer.Argument(help="Environment whose S3 state bucket to create or harden.")],
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Create the state bucket idempotently: versioning, encryption, no public access, TLS only, locking."""
    from toolkit.commands.environments import bootstrap as bootstrap_bucket

    show(bootstrap_bucket(context(endpoint, emulator=emulator), env), json, text.bootstrap)


@app.command("values")
@command
def values(
    env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None, emulator: EmulatorOpt = False
) -> None:
    """The environment's resolved values (tfvars and Terraform outputs) with their source; secrets masked."""
    from toolkit.commands.values import values_report

    show(values_report(context(endpoint, emulator=emulator), env), json, text.values)


@app.command("promote-check")
@command
def promote_check(
    source: Annotated[str, typer.Argument(metavar="FROM", help="The environment that was tested, e.g. qa.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="The environment about to receive it, e.g. prod.")],
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Pass only if TO would receive exactly the migrations, pipeline code and stack code FROM runs."""
    from toolkit.commands.promote import promote_check as check

    result = check(context(endpoint, emulator=emulator), source, target)
    show(result, json, text.promote_check, exit_code=0 if result.ok else 1)


@app.command("drift")
@command
def drift(env: EnvArg, json: JsonOpt = False, endpoint: EndpointOpt = None, emulator: EmulatorOpt = False) -> None:
    """Changes made outside toolkit: Terraform refresh-only plan of every stack, and the live schema."""
    from toolkit.commands.drift import env_drift

    report = env_drift(context(endpoint, emulator=emulator), env)
    show(report, json, text.drift, exit_code=1 if report.drifted else 0)


@app.command("init")
@command
def init(
    from_flyway: Annotated[
        Path | None,
        typer.Option(
            "--from-flyway",
            metavar="FLYWAY_CONFIG",
            help="flyway.conf or flyway.toml: take its location, table, schema and placeholders over.",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Start a project here (or in -C PATH): toolkit.toml, a local stack, sql/, pipelines/, tfvars/, toolkit.mk.
    Writes nothing over existing files."""
    from toolkit.commands.init import init_project

    root = OPTIONS.project or Path.cwd()
    show(init_project(optional_context(), root, from_flyway=from_flyway), json, text.init)


@app.command("schema")
@command
def schema(
    name: Annotated[
        str | None,
        typer.Argument(help="toolkit.toml, or a pipeline kind (asl, glue-job, glue-workflow, firehose, datapipeline)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Print a JSON Schema for editors (toolkit.toml, each pipeline kind); without NAME, list them."""
    from toolkit.commands.schema import schema_document, schema_list

    if name is None:
        show(schema_list(None), json, text.schema_list)
    else:
        show(schema_document(None, name), True, str)


@app.command("doctor")
@command
def doctor(
    env: Annotated[str | None, typer.Argument(help="Also check this environment's database.")] = None,
    json: JsonOpt = False,
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint to check instead of AWS.")] = None,
) -> None:
    """Which Terraform engine runs, and whether PostgreSQL and AWS credentials are usable."""
    from toolkit.commands.doctor import doctor as check
    from toolkit.errors import ConfigError

    # doctor works outside a project too; checking an environment's database needs one. A toolkit.toml
    # that is there but wrong is one of the checks, and fails it.
    problem = None
    try:
        ctx = context(endpoint, quiet=True) if env is not None else optional_context(strict=True)
    except ConfigError as exc:
        ctx, problem = None, str(exc)
    report = check(ctx, engine_choice=OPTIONS.engine, endpoint=endpoint, env=env, project_problem=problem)
    show(report, json, text.doctor, exit_code=0 if report.ok else 3)
