"""The reliability suite's figures, printed at the end of every run (pass or fail), so CI output shows
how many runs each guarantee was checked over. A plugin of tests/conftest.py rather than a hook of
tests/reliability/conftest.py: under pytest-xdist the controller collects nothing, so only the top
conftest's plugins run there, and each worker hands its figures over as it stops."""

from __future__ import annotations

import pytest

FIGURES = pytest.StashKey[dict[str, str]]()


def figures_of(config) -> dict[str, str]:
    """The family -> one-line figure table of this run (of this worker, under pytest-xdist)."""
    return config.stash.setdefault(FIGURES, {})


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)  # set on pytest-xdist workers only
    if workeroutput is not None:
        workeroutput["reliability_figures"] = dict(figures_of(session.config))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller, as a worker stops: that worker's figures."""
    figures_of(node.config).update(getattr(node, "workeroutput", {}).get("reliability_figures", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = figures_of(config)
    if figures:
        terminalreporter.section("reliability figures")
        for family, text in sorted(figures.items()):
            terminalreporter.write_line(f"{family}: {text}")
