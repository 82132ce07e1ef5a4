"""The reliability suite's figures: each family records one line, printed at the end of every run
(tests/figures.py prints them, also when pytest-xdist runs the files on several workers)."""

from __future__ import annotations

import pytest

from tests.figures import figures_of


@pytest.fixture
def record_figure(request):
    """`record_figure("concurrency", "160 runs, 0 duplicates")`: the family's one-line figure."""
    figures = figures_of(request.config)

    def record(family: str, text: str) -> None:
        figures[family] = text

    return record
