"""The `toolkit` command line: each command parses its options, calls one verb, renders its result.

`main` answers `--version`, and a `--help` page it has printed before, without importing typer
(`cli/shortcuts.py`), and runs `db migrate` without the tree (`cli/direct.py`); everything else builds
the command tree (`cli/tree.py`) and runs it.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from toolkit.cli import shortcuts

    if shortcuts.answer(sys.argv):
        return
    # Everything toolkit and its children write (local state, saved plans, the server's log) is the
    # owner's only. Set here, at the real entry point, not in the Typer callback: in-process callers
    # (tests, notebooks) keep their own umask.
    os.umask(0o077)
    from toolkit.cli import direct
    from toolkit.errors import ExitCode

    try:
        code = direct.run(sys.argv)
        if code is not None:
            raise SystemExit(code)
        from toolkit.cli.tree import app

        with shortcuts.remembering(sys.argv):
            app()
    except SystemExit as exit_:
        if exit_.code == ExitCode.INTERRUPTED:
            # Python's finalization resets every signal it handled to the default action, so a CI
            # runner's follow-up SIGTERM in the last milliseconds would turn exit 130 into -15. Nothing
            # is started after this point, so ignoring them outright (inherited by no child) is safe.
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise


def __getattr__(name: str):
    # `from toolkit.cli import app` (tests, tools) builds the tree; `main` alone does not have to.
    if name == "app":
        from toolkit.cli.tree import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
