"""What every CLI command shares: global options, the Context, mapping errors to exit codes, and stop signals.

A `ToolkitError` becomes its exit code and a one-paragraph message on stderr (with `--json`, also a JSON
error document on stdout, its problems structured); anything else is a bug: exit 70, its traceback only
with `--debug`. Typer is imported only where the command tree needs it (`cli/direct.py` runs a command
without the tree, through the same `guarded`).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from toolkit.errors import ExitCode, ToolkitError
from toolkit.support.masking import mask

F = TypeVar("F", bound=Callable[..., object])


@dataclass
class GlobalOptions:
    project: Path | None = None
    engine: str | None = None
    verbose: bool = False
    quiet: bool = False
    debug: bool = False
    plain: bool | None = None
    no_cache: bool = False


OPTIONS = GlobalOptions()


def context(endpoint: str | None = None, *, emulator: bool = False, quiet: bool | None = None):
    """The library Context for this invocation (loads toolkit.toml; with `endpoint`, emulator mode; with
    `emulator`, toolkit's own emulator, started when it is not running, is the endpoint)."""
    from toolkit.cli.console import ConsoleReporter
    from toolkit.deploy.context import Context
    from toolkit.errors import UsageError
    from toolkit.project.loader import load_project

    if endpoint and emulator:
        raise UsageError("--endpoint and --emulator exclude each other: --emulator starts toolkit's own emulator")
    project = load_project(OPTIONS.project or _project_from_env())
    reporter = ConsoleReporter(
        quiet=OPTIONS.quiet if quiet is None else quiet, verbose=OPTIONS.verbose, plain=OPTIONS.plain
    )
    if emulator or endpoint:
        from toolkit.deploy.emulator import enter_emulator_mode
    if emulator:
        from toolkit.deploy.emulator_server import ensure_running

        enter_emulator_mode("http://127.0.0.1")  # refuse real credentials before starting anything
        endpoint = ensure_running(project.state_dir, reporter)
    if endpoint:
        enter_emulator_mode(endpoint)
    return Context(
        project=project,
        engine_choice=OPTIONS.engine,
        endpoint=endpoint,
        reporter=reporter,
        emulator=emulator,
        no_cache=OPTIONS.no_cache,
    )


def optional_context(*, strict: bool = False):
    """The Context when a project is found, else None (for commands that also work outside a project).
    With `strict`, a toolkit.toml that is found but wrong is raised (ConfigError), not taken for none."""
    from toolkit.deploy.context import Context
    from toolkit.errors import ConfigError
    from toolkit.project.loader import find_config, load_project

    where = OPTIONS.project or _project_from_env() or Path.cwd()
    try:
        if not where.is_file():
            find_config(where)
    except ConfigError:
        return None  # no toolkit.toml at all: outside a project
    try:
        return Context(project=load_project(where), engine_choice=OPTIONS.engine, no_cache=OPTIONS.no_cache)
    except ConfigError:
        if strict:
            raise
        return None


def _project_from_env() -> Path | None:
    value = os.environ.get("TOOLKIT_PROJECT")
    return Path(value) if value else None


def command(fn: F) -> F:
    """Run a command body; ToolkitError → message on stderr and its exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import typer

        code = guarded(lambda: fn(*args, **kwargs), as_json=bool(kwargs.get("json")), passes=typer.Exit)
        if code:
            raise typer.Exit(code)

    return wrapper  # type: ignore[return-value]


def guarded(body: Callable[[], object], *, as_json: bool, passes: type[BaseException] | tuple = ()) -> int:
    """Run `body` under the stop signals; the exit code its outcome maps to (0: it returned). `passes`
    are exceptions that carry their own exit (typer's), raised on as they are."""
    from toolkit.cli.console import print_error, print_error_json

    with _StopSignals() as stop:
        try:
            try:
                body()
                return 0
            finally:
                stop.armed = False
        except passes:
            raise
        except ToolkitError as exc:  # a user error: its message says it all, even with --debug
            if as_json:
                print_error_json(exc)
            print_error(str(exc))
            return int(exc.exit_code)
        except KeyboardInterrupt:
            stop.interrupted = True
            print_error("interrupted")
            return int(ExitCode.INTERRUPTED)
        except Exception as exc:  # a bug: say so, and show the traceback only when asked
            if OPTIONS.debug:
                print_traceback(exc)
            print_error(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "  this is a bug in toolkit; run again with --debug and report the traceback"
            )
            return int(ExitCode.INTERNAL)


class _StopSignals:
    """SIGTERM stops a command the way Ctrl-C does (KeyboardInterrupt, exit 130), not with Python's
    default (killed, -15), whenever it arrives: while Terraform runs, process.run forwards it instead.
    One signal stops the body; later ones, and any once the body has ended (the outcome is being
    reported), are ignored, so cleanup runs undisturbed and the exit code stays the documented one.
    After an interrupted command they stay ignored: the process is on its way out with 130, and a CI
    runner's follow-up SIGTERM must not turn that into -15 (or a second Ctrl-C into a traceback)."""

    def __init__(self) -> None:
        self.armed = True
        self.interrupted = False  # the body ended by a stop signal or Ctrl-C
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, _type, exc, _tb) -> None:
        interrupted = self.interrupted or getattr(exc, "exit_code", None) == ExitCode.INTERRUPTED
        for sig, handler in self._previous.items():
            # a no-op handler rather than SIG_IGN, which children would inherit across exec
            signal.signal(sig, _ignore if interrupted else handler)

    def _handle(self, _signum, _frame) -> None:
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt


def _ignore(_signum, _frame) -> None:
    pass


def print_traceback(exc: BaseException) -> None:
    """The traceback of a bug, every line masked: frames quote source lines and chained exceptions
    quote drivers (PostgreSQL echoes statements, passwords included)."""
    import traceback

    for chunk in traceback.format_exception(exc):
        sys.stderr.write(mask(chunk))
    sys.stderr.flush()
