"""What a run has changed so far, for the message when a later step fails: every step says what it did.

A failing step is named, with what this run already changed (stacks applied, resources a half-done apply
finished, migrations applied by name, records written); every step skips what is done, so running the
same command again continues from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from toolkit.deploy.context import Context
from toolkit.errors import ToolkitError
from toolkit.terraform.stack import Stack


@dataclass
class Progress:
    """What this run changed so far, for the message when a later step fails (the failing step's own
    partial changes included: a Terraform apply that got half way, migrations applied before one failed)."""

    changed: list[str] = field(default_factory=list)

    @contextmanager
    def step(self, ctx: Context, title: str, *, partial: Callable[[], list[str]] | None = None) -> Iterator[None]:
        try:
            with ctx.reporter.step(title):
                yield
        except ToolkitError as exc:
            done = "; ".join(self.changed + (partial() if partial else [])) or "nothing"
            exc.message = f"step '{title}' failed: {exc.message}\n  already changed by this run: {done}"
            raise


# Terraform's line for each resource it finished, e.g. `terraform_data.app: Creation complete after 0s`.
_RESOURCE_DONE = re.compile(r"^(?P<address>\S+): (?P<what>Creation|Modifications|Destruction) complete\b")
_DONE_AS = {"Creation": "created", "Modifications": "updated", "Destruction": "destroyed"}


class ResourceWatcher:
    """Collects, from the Terraform output streamed through it, each resource an apply finished: what was
    really changed, even when the apply then failed half way."""

    def __init__(self, stack_name: str) -> None:
        self.stack_name = stack_name
        self.done: dict[str, list[str]] = {}

    def watch(self, stack: Stack) -> None:
        forward = stack.on_line

        def on_line(stream: str, line: str) -> None:
            match = _RESOURCE_DONE.match(line.strip())
            if match:
                self.done.setdefault(_DONE_AS[match["what"]], []).append(match["address"])
            if forward is not None:
                forward(stream, line)

        stack.on_line = on_line

    def counts(self) -> str:
        return ", ".join(f"{len(addresses)} {what}" for what, addresses in self.done.items())

    def partial(self) -> list[str]:
        if not self.done:
            return []
        lists = "; ".join(f"{what} {', '.join(addresses)}" for what, addresses in self.done.items())
        return [f"stack {self.stack_name} partially applied ({lists})"]
