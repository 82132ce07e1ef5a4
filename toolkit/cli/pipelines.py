"""`toolkit pipelines ...`: validate, render, graph, fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli.base import command, context, finish

app = typer.Typer(no_args_is_help=True, help="Pipeline definitions: validate, render per environment, graph.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


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
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.pipelines import pipelines_validate

    report = pipelines_validate(context(), envs)
    if json:
        print_json({"ok": report.ok, **{k: getattr(report, k) for k in ("environments", "files", "problems")}})
    else:
        lines = [str(p) for p in report.problems]
        lines.append(
            f"{report.files} pipeline file(s), environments {', '.join(report.environments) or 'none'}: "
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        )
        print_text("\n".join(lines))
    finish(0 if report.ok else 1)


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
    endpoint: Annotated[str | None, typer.Option(help="Local AWS endpoint for every AWS call.")] = None,
) -> None:
    """Write the deployable definitions for ENV (values from its tfvars and Terraform outputs)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.pipelines import pipelines_render

    result = pipelines_render(context(endpoint), env, out)
    if json:
        print_json(result)
        return
    lines = [f"rendered {len(result.files)} pipeline(s) for {result.environment} into {result.out_dir}"]
    for item in result.files:
        lines.append(f"  {'changed  ' if item.changed else 'unchanged'} {item.file}  {item.fingerprint[:19]}")
        if diff:
            lines.extend(f"    {line}" for line in item.diff)
    print_text("\n".join(lines))


@app.command("graph")
@command
def graph(
    name: Annotated[str, typer.Argument(help="Pipeline name (file name without its kind suffix).")],
    json: JsonOpt = False,
) -> None:
    """Print a state machine or Glue workflow as a Mermaid diagram."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.pipelines import pipelines_graph

    diagram = pipelines_graph(context(), name).rstrip("\n")
    if json:
        print_json({"pipeline": name, "mermaid": diagram})
    else:
        print_text(diagram)


@app.command("fingerprint")
@command
def fingerprint(json: JsonOpt = False) -> None:
    """The code fingerprint of each pipeline (values ignored): equal fingerprints, same code."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.pipelines import pipelines_fingerprint

    rows = pipelines_fingerprint(context())
    if json:
        print_json(rows)
    else:
        print_text("\n".join(f"{row.fingerprint}  {row.kind:<14} {row.name}" for row in rows))
