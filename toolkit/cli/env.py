"""`toolkit env ...`: up, down, status of one environment."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli.base import command, context

app = typer.Typer(no_args_is_help=True, help="Stand an environment up, show it, tear it down.")

EnvArg = Annotated[str, typer.Argument(help="Environment name from toolkit.toml (e.g. local, dev, pr-7).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Send every AWS call to this local endpoint (moto server, LocalStack)."),
]


@app.command("up")
@command
def up(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Validate, apply the Terraform stacks, then apply pending migrations."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.env import env_up

    result = env_up(context(endpoint), env)
    if json:
        print_json(result)
        return
    lines = [
        f"environment {result.environment}: {'updated' if result.changed else 'nothing to do'}",
        f"  engine      {result.engine}",
    ]
    for stack in result.stacks:
        state = "applied" if stack.changed else "no changes"
        created = ", workspace created" if stack.workspace_created else ""
        lines.append(
            f"  stack       {stack.stack} (workspace {stack.workspace}): {state}{created}, "
            f"{stack.resources} resource(s)"
        )
    applied = len(result.migrations_applied)
    lines.append(f"  migrations  {applied} applied now, {result.migrations_already_applied} before")
    lines.append(f"  database    {result.database_url}")
    print_text("\n".join(lines))


@app.command("down")
@command
def down(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Destroy the environment's stacks in reverse order (refused for protected environments)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.env import env_down

    result = env_down(context(endpoint), env)
    if json:
        print_json(result)
        return
    destroyed = [s.stack for s in result.stacks if s.changed]
    print_text(
        f"environment {result.environment}: destroyed "
        f"{', '.join(destroyed) if destroyed else 'nothing (already empty)'}"
        + ("; local database removed" if result.database_removed else "")
    )
