"""What every CLI command shares: global options, the Context, and mapping errors to exit codes."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer

from toolkit.errors import ExitCode, ToolkitError

F = TypeVar("F", bound=Callable[..., object])


@dataclass
class GlobalOptions:
    project: Path | None = None
    engine: str | None = None
    verbose: bool = False
    quiet: bool = False
    debug: bool = False
    plain: bool | None = None


OPTIONS = GlobalOptions()


def context(endpoint: str | None = None, *, quiet: bool | None = None):
    """The library Context for this invocation (loads toolkit.toml)."""
    from toolkit.cli.output import ConsoleReporter
    from toolkit.commands.context import Context
    from toolkit.config import load_project

    if endpoint:
        from toolkit.aws.emulator import enter_emulator_mode

        enter_emulator_mode(endpoint)
    project = load_project(OPTIONS.project or _project_from_env())
    reporter = ConsoleReporter(
        quiet=OPTIONS.quiet if quiet is None else quiet, verbose=OPTIONS.verbose, plain=OPTIONS.plain
    )
    return Context(project=project, engine_choice=OPTIONS.engine, endpoint=endpoint, reporter=reporter)


def _project_from_env() -> Path | None:
    value = os.environ.get("TOOLKIT_PROJECT")
    return Path(value) if value else None


def command(fn: F) -> F:
    """Run a command body; ToolkitError → message on stderr and its exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from toolkit.cli.output import print_error

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except ToolkitError as exc:
            if OPTIONS.debug:
                traceback.print_exc()
            print_error(str(exc))
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print_error("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # a bug: say so, and show the traceback only when asked
            if OPTIONS.debug:
                traceback.print_exc()
            print_error(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "  this is a bug in toolkit; run again with --debug and report the traceback"
            )
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def finish(code: int) -> None:
    sys.stdout.flush()
    if code:
        raise typer.Exit(code)
