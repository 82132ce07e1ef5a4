"""Terraform says nothing while it queues for a state lock another run holds; toolkit says it waits."""

from __future__ import annotations

import time

from toolkit.deploy.context import TerraformLines


class Recorder:
    def __init__(self) -> None:
        self.details: list[str] = []
        self.notes: list[str] = []

    def step(self, title):  # pragma: no cover - not used here
        raise AssertionError

    def detail(self, text: str) -> None:
        self.details.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)


def lines(seconds: float) -> tuple[TerraformLines, Recorder]:
    reporter = Recorder()
    watcher = TerraformLines(reporter, "infra", "5m")
    watcher.QUIET_SECONDS = seconds
    return watcher, reporter


def test_a_quiet_wait_after_asking_for_the_lock_is_said():
    watcher, reporter = lines(0.05)
    watcher("stdout", "Acquiring state lock. This may take a few moments...")
    time.sleep(0.3)
    assert reporter.notes == [
        "infra: waiting for the state lock, which another run may hold (Terraform waits up to 5m: "
        "[terraform].lock_timeout or TOOLKIT_LOCK_TIMEOUT)"
    ]
    assert reporter.details == ["Acquiring state lock. This may take a few moments..."]


def test_a_lock_taken_at_once_says_nothing_more():
    watcher, reporter = lines(0.2)
    watcher("stdout", "Acquiring state lock. This may take a few moments...")
    watcher("stdout", "terraform_data.app: Refreshing state... [id=1]")
    time.sleep(0.4)
    assert reporter.notes == []
    watcher("stdout", "")  # blank lines are not details
    assert len(reporter.details) == 2
