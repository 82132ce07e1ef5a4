"""The reliability suite's figures: each family records one line, printed at the end of every run
(pass or fail), so CI output shows how many runs each guarantee was checked over."""

from __future__ import annotations

import pytest

FIGURES = pytest.StashKey[dict[str, str]]()


@pytest.fixture
def record_figure(request):
    """`record_figure("concurrency", "160 runs, 0 duplicates")`: the family's one-line figure."""
    figures = request.config.stash.setdefault(FIGURES, {})

    def record(family: str, text: str) -> None:
        figures[family] = text

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = config.stash.get(FIGURES, {})
    if figures:
        terminalreporter.section("reliability figures")
        for family, text in figures.items():
            terminalreporter.write_line(f"{family}: {text}")
