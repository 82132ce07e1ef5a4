"""What every CLI command shares: global options, the Context, and mapping errors to exit codes."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer
from typer.core import TyperGroup

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


def command(fn: F) -> F:
    """Run a command body; ToolkitError → message on stderr and its exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from toolkit.cli.output import print_error

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except ToolkitError as exc:  # a user error: its message says it all, even with --debug
            print_error(str(exc))
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print_error("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # a bug: say so, and show the traceback only when asked
            if OPTIONS.debug:
                print_traceback(exc)
            print_error(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "  this is a bug in toolkit; run again with --debug and report the traceback"
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def print_traceback(exc: BaseException) -> None:
    """The traceback of a bug, every line masked: frames quote source lines and chained exceptions
    quote drivers (PostgreSQL echoes statements, passwords included)."""
    from toolkit.secrets import mask

    for chunk in traceback.format_exception(exc):
        sys.stderr.write(mask(chunk))
    sys.stderr.flush()


def finish(code: int) -> None:
    sys.stdout.flush()
    if code:
        raise typer.Exit(code)
