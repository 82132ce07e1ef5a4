"""`toolkit stacks ...`: static checks of the Terraform stacks (run anywhere: no init, no providers)."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli.base import command, context, finish

app = typer.Typer(no_args_is_help=True, help="Check the Terraform stacks without initialising them.")


@app.command("check")
@command
def check(
    json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON on stdout.")] = False,
) -> None:
    """terraform fmt, parsing, the output contract between platforms, tfvars against variables.

    Exit 0 when clean, 1 when there are findings.
    """
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.stacks import stacks_check

    result = stacks_check(context())
    if json:
        print_json(result)
    elif result.ok:
        print_text(
            f"stacks check: ok ({len(result.directories)} stack directories, {len(result.environments)} environments)"
        )
    else:
        lines = [f"{f} [{f.rule}]" for f in result.findings]
        lines.append(f"stacks check: {len(result.findings)} finding(s)")
        print_text("\n".join(lines))
    finish(0 if result.ok else 1)
