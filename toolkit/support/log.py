"""Toolkit's loggers: `logging` (and its set-up) is imported only when a record is to be written.

Most runs write no log record at all, and importing `logging` (with `traceback` and the rest) is a fixed
cost of every start-up. The CLI says which level it shows (`defer`); until a record at that level or
above arrives, nothing is imported, and the first such record sets up the masking handler before it is
written. Used as a library (no `defer`), every record goes straight to `logging`, as it always did.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40  # logging's own numbers

_threshold = 0
_setup: Callable[[], None] | None = None


def defer(threshold: int, setup: Callable[[], None]) -> None:
    """Records below `threshold` are dropped unseen; the first at or above it runs `setup` (which imports
    and configures `logging`) before it is written. With `logging` already imported, `setup` runs now."""
    global _threshold, _setup
    if "logging" in sys.modules:
        _threshold, _setup = 0, None
        setup()
        return
    _threshold, _setup = threshold, setup


def _set_up() -> None:
    global _threshold, _setup
    setup, _threshold, _setup = _setup, 0, None
    if setup is not None:
        setup()


class Logger:
    """`logging.getLogger(name)`, fetched when a record is written."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def log(self, level: int, msg: str, *args, **kwargs) -> None:
        if _setup is not None:
            if level < _threshold:
                return
            _set_up()
        import logging

        logging.getLogger(self.name).log(level, msg, *args, **kwargs)

    def debug(self, msg: str, *args, **kwargs) -> None:
        self.log(DEBUG, msg, *args, **kwargs)

    def info(self, msg: str, *args, **kwargs) -> None:
        self.log(INFO, msg, *args, **kwargs)

    def warning(self, msg: str, *args, **kwargs) -> None:
        self.log(WARNING, msg, *args, **kwargs)

    def error(self, msg: str, *args, **kwargs) -> None:
        self.log(ERROR, msg, *args, **kwargs)


def get_logger(name: str) -> Logger:
    return Logger(name)
