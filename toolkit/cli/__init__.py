"""The `toolkit` command line: each command parses its options, calls one verb, renders its result.

Verbs and everything heavy (boto3, psycopg2, rich, Terraform) are imported inside the commands, so
`toolkit --help` starts fast.
"""

from __future__ import annotations

import os

from toolkit.cli import coercion, db, emulator, env, pipelines, stacks
from toolkit.cli.root import app
from toolkit.errors import ExitCode

coercion.install()  # before any option is parsed: no pydantic for plain values

app.add_typer(env.app, name="env")
app.add_typer(db.app, name="db")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(stacks.app, name="stacks")
app.add_typer(emulator.app, name="emulator")


def main() -> None:
    # Everything toolkit and its children write (local state, saved plans, the server's log) is the
    # owner's only. Set here, at the real entry point, not in the Typer callback: in-process callers
    # (tests, notebooks) keep their own umask.
    os.umask(0o077)
    try:
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


__all__ = ["app", "main"]
