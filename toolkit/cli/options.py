"""The options and arguments several commands share, defined once."""

from __future__ import annotations

from typing import Annotated

import typer


def environment_names(incomplete: str) -> list[str]:
    """Shell completion of an environment argument: the names toolkit.toml declares (read with tomllib
    alone, so a TAB stays fast; a project that cannot be read completes nothing)."""
    import os
    import tomllib
    from pathlib import Path

    from toolkit.project.loader import find_config

    try:
        start = Path(os.environ.get("TOOLKIT_PROJECT") or Path.cwd())
        config = start if start.is_file() else find_config(start)
        names = tomllib.loads(config.read_text(encoding="utf-8")).get("environments", {})
    except Exception:  # noqa: BLE001 - completion must never print a traceback into the shell
        return []
    return sorted(name for name in names if isinstance(name, str) and name.startswith(incomplete))


EnvArg = Annotated[
    str,
    typer.Argument(
        help="Environment name from toolkit.toml (e.g. local, dev, pr-7).", autocompletion=environment_names
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Send every AWS call to this local endpoint (moto server, LocalStack)."),
]
EmulatorOpt = Annotated[
    bool,
    typer.Option(
        "--emulator",
        help="Run against toolkit's own AWS emulator (moto, from the dev extra), started if it is not running.",
    ),
]
BranchOpt = Annotated[str | None, typer.Option(help="Branch recorded with a new ephemeral environment.")]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database", help="Only this database of the project (a [databases.<name>]); default: each, in order."
    ),
]
