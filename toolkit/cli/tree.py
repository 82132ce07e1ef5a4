"""The command tree: every command group added to the root, and the coercion typer needs installed first.

Verbs and everything heavy (boto3, psycopg2, rich, Terraform) are imported inside the commands, so
building the tree imports typer and toolkit's own CLI modules only.
"""

from __future__ import annotations

from toolkit.cli import coercion, db, emulator, env, pipelines, stacks
from toolkit.cli.root import app

coercion.install()  # before any option is parsed: no pydantic for plain values

app.add_typer(env.app, name="env")
app.add_typer(db.app, name="db")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(stacks.app, name="stacks")
app.add_typer(emulator.app, name="emulator")

__all__ = ["app"]
