"""`toolkit stacks ...`: static checks of the Terraform stacks (run anywhere: no init, no providers)."""

from __future__ import annotations

import typer

from toolkit.cli import text
from toolkit.cli.console import show
from toolkit.cli.invocation import command, context
from toolkit.cli.options import JsonOpt

app = typer.Typer(no_args_is_help=True, help="Check the Terraform stacks without initialising them.")


@app.command("check")
@command
def check(json: JsonOpt = False) -> None:
    """terraform fmt, parsing, the output contract between platforms, tfvars against variables.

    Exit 0 when clean, 1 when there are findings.
    """
    from toolkit.commands.stacks import stacks_check

    result = stacks_check(context())
    show(result, json, text.stacks_check, exit_code=0 if result.ok else 1)
