"""The terminal: the progress reporter, logging, and printing results as text or JSON. Everything passes `mask()`.

Results go to stdout, progress and diagnostics to stderr. Under CI (CI=true) or when stderr is not a
terminal, progress is plain timestamped lines; on a terminal a spinner shows the step and its time.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from toolkit.errors import ToolkitError
from toolkit.support.masking import mask

R = TypeVar("R")


def plain_mode() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or not sys.stderr.isatty()


def _stamp() -> str:
    return time.strftime("%H:%M:%S")


class ConsoleReporter:
    """Implements toolkit.support.reporting.Reporter for a person or a CI log."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False, plain: bool | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.plain = plain_mode() if plain is None else plain
        self._status = None
        self._console = None
        if not self.plain:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)

    def _emit(self, text: str, style: str = "") -> None:
        text = mask(text)
        if self._console is not None:
            from rich.markup import escape

            self._console.print(f"[{style}]{escape(text)}[/]" if style else escape(text))
        else:
            print(f"{_stamp()} {text}", file=sys.stderr, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        started = time.monotonic()
        if not self.quiet:
            if self._console is not None:
                from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

                self._status = Progress(
                    SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=self._console, transient=True,
                )  # fmt: skip
                self._status.add_task(title, total=None)
                self._status.start()
            else:
                self._emit(f"> {title}")
        try:
            yield
        except BaseException:
            self._stop_status()
            self._emit(f"x {title} failed after {time.monotonic() - started:.1f}s", "bold red")
            raise
        self._stop_status()
        if not self.quiet:
            self._emit(f"ok {title} ({time.monotonic() - started:.1f}s)", "green")

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def detail(self, text: str) -> None:
        if self.verbose or (not self.quiet and _is_resource_event(text)):
            self._emit(f"  {text}", "dim")

    def note(self, text: str) -> None:
        if not self.quiet:
            self._emit(f"  {text}", "cyan")


def _is_resource_event(line: str) -> bool:
    """Terraform's per-resource progress lines ('x: Creating...', 'Apply complete!') and our own."""
    markers = (
        "Creating...",
        "Creation complete",
        "Modifying...",
        "Modifications complete",
        "Destroying...",
        "Destruction complete",
        "Still ",
        "Apply complete!",
        "Plan:",
        "applying ",
        "No changes.",
        "Destroy complete!",
    )
    return any(marker in line for marker in markers)


def configure_logging(verbose: bool, quiet: bool) -> None:
    """Toolkit's records at this level and above to stderr, masked; `logging` is set up only when the
    first such record comes (support/log.py)."""
    from toolkit.support import log

    level = log.DEBUG if verbose else log.ERROR if quiet else log.WARNING
    log.defer(level, lambda: _masking_handler(level))


def _masking_handler(level: int) -> None:
    import logging

    class MaskingFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = mask(record.getMessage())
            record.args = ()
            return True

    class MaskingFormatter(logging.Formatter):
        """Masks the whole formatted record: a logged exception's traceback is added after the filters ran."""

        def format(self, record: logging.LogRecord) -> str:
            return mask(super().format(record))

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("toolkit")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path | datetime):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def print_json(value: Any) -> None:
    with closed_pipe_ends_quietly():
        print(mask(json.dumps(to_jsonable(value), indent=2, sort_keys=True)))
        sys.stdout.flush()


def print_text(text: str) -> None:
    with closed_pipe_ends_quietly():
        print(mask(text))
        sys.stdout.flush()


@contextmanager
def closed_pipe_ends_quietly() -> Iterator[None]:
    """`toolkit … | head -1` or `| true`: whoever reads stdout has gone, so what is left to print goes
    nowhere (stdout points at /dev/null from here on, also for the flush at exit), and the command ends
    with its own exit code, not as a bug."""
    try:
        yield
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (tests capture stdout)
            pass


def print_error(message: str) -> None:
    print(mask(f"error: {message}"), file=sys.stderr, flush=True)


def print_error_json(exc: ToolkitError) -> None:
    """With --json, an error is a JSON document on stdout too, so a CI step parsing the output gets one;
    a failed check keeps its problems structured (file, line, JSON pointer, keyword)."""
    error: dict[str, Any] = {"type": type(exc).__name__, "exit_code": int(exc.exit_code), "message": exc.message}
    if exc.hint:
        error["hint"] = exc.hint
    problems = getattr(exc, "problems", None)  # a failed check's (ValidationFailed), or toolkit.toml's
    if problems is not None:
        error["problems"] = [to_jsonable(p) if dataclasses.is_dataclass(p) else str(p) for p in problems]
    print_json({"ok": False, "error": error})


def show(
    result: R,
    as_json: bool,
    text: Callable[[R], str],
    *,
    exit_code: int = 0,
    as_document: Callable[[R], Any] | None = None,
) -> None:
    """Print a verb's result (as JSON: the result itself, or `as_document(result)`), then exit `exit_code`."""
    if as_json:
        print_json(result if as_document is None else as_document(result))
    else:
        print_text(text(result))
    if exit_code:
        import typer

        raise typer.Exit(exit_code)
