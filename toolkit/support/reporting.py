"""How library code tells the caller what it is doing, without printing: a small protocol.

The CLI supplies an implementation (rich progress on a terminal, plain timestamped lines under CI);
library functions default to `SilentReporter`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol


class Reporter(Protocol):
    def step(self, title: str) -> AbstractContextManager[None]:
        """A named step; the context manager times it and marks it done or failed."""

    def detail(self, text: str) -> None:
        """A line of progress inside the current step (e.g. a Terraform resource event)."""

    def note(self, text: str) -> None:
        """A one-line outcome worth showing even when quiet is off (e.g. 'no changes')."""


class SilentReporter:
    def step(self, title: str) -> AbstractContextManager[None]:
        return nullcontext()

    def detail(self, text: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass
