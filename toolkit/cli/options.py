"""The options and arguments several commands share, defined once."""

from __future__ import annotations

from typing import Annotated

import typer

EnvArg = Annotated[str, typer.Argument(help="Environment name from toolkit.toml (e.g. local, dev, pr-7).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Send every AWS call to this local endpoint (moto server, LocalStack)."),
]
BranchOpt = Annotated[str | None, typer.Option(help="Branch recorded with a new ephemeral environment.")]
