"""`toolkit pipelines ...`: validate, render, graph, fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli import text
from toolkit.cli.console import show
from toolkit.cli.invocation import command, context
from toolkit.cli.options import EmulatorOpt, EndpointOpt, JsonOpt

app = typer.Typer(no_args_is_help=True, help="Pipeline definitions: validate, render per environment, graph.")


@app.command("validate")
@command
def validate(
    envs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Environments to check bindings for (default: all, and the [ephemeral] template as 'ephemeral')."
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Check every pipeline file (syntax, schema, semantics) and its values in each environment."""
    from toolkit.commands.pipelines import pipelines_validate

    report = pipelines_validate(context(), envs)
    document = {
        "ok": report.ok,
        "environments": report.environments,
        "files": report.files,
        "problems": report.problems,
    }
    show(report, json, text.pipelines_validate, exit_code=0 if report.ok else 1, as_document=lambda _: document)


@app.command("render")
@command
def render(
    env: Annotated[str, typer.Argument(help="Environment whose values fill the placeholders.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: .toolkit/ENV/rendered, what the pipelines stack reads)."),
    ] = None,
    diff: Annotated[bool, typer.Option("--diff", help="Show what changed in each rendered file.")] = False,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Write the deployable definitions for ENV (values from its tfvars and Terraform outputs)."""
    from toolkit.commands.pipelines import pipelines_render

    show(
        pipelines_render(context(endpoint, emulator=emulator), env, out),
        json,
        lambda r: text.pipelines_render(r, diff=diff),
    )


@app.command("graph")
@command
def graph(
    name: Annotated[str, typer.Argument(help="Pipeline name (file name without its kind suffix).")],
    json: JsonOpt = False,
) -> None:
    """Print a state machine or Glue workflow as a Mermaid diagram."""
    from toolkit.commands.pipelines import pipelines_graph

    show(pipelines_graph(context(), name), json, text.pipelines_graph)


@app.command("fingerprint")
@command
def fingerprint(json: JsonOpt = False) -> None:
    """The code fingerprint of each pipeline (values ignored): equal fingerprints, same code."""
    from toolkit.commands.pipelines import pipelines_fingerprint

    show(pipelines_fingerprint(context()), json, text.pipelines_fingerprint)
