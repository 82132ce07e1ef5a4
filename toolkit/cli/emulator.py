"""`toolkit emulator ...`: the AWS emulator that `--emulator` starts."""

from __future__ import annotations

import typer

from toolkit.cli import text
from toolkit.cli.console import show
from toolkit.cli.invocation import command, context
from toolkit.cli.options import JsonOpt

app = typer.Typer(no_args_is_help=True, help="The AWS emulator (moto) that --emulator starts.")


@app.command("stop")
@command
def stop(json: JsonOpt = False) -> None:
    """Stop it: every emulated resource and the state bucket are lost (moto keeps them in memory)."""
    from toolkit.commands.emulator import emulator_stop

    show(emulator_stop(context()), json, text.emulator_stop)
