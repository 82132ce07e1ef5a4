"""Finding an environment's parts from its Terraform state: stack outputs and the database target.

Every command that touches an environment's database (env up, db *, plan) connects through here, so
the connection always comes from that environment's outputs, never from a setting of its own.
"""

from __future__ import annotations

from toolkit.commands.context import Context
from toolkit.config import Environment
from toolkit.database.connection import DatabaseTarget, resolve_target
from toolkit.database.embedded import EmbeddedServer, provision
from toolkit.errors import ToolkitError
from toolkit.migrations.history import HistoryTable
from toolkit.terraform.outputs import DatabaseOutput, Output, database_output


class EnvironmentNotUp(ToolkitError):
    """The environment has no workspace or no state yet."""


def stack_outputs(ctx: Context, env: Environment, stack_name: str) -> dict[str, Output]:
    """Outputs of one stack in the environment's (existing) workspace."""
    stack = ctx.stack(env, stack_name)
    stack.init()
    if not stack.select_existing_workspace():
        raise EnvironmentNotUp(
            f"environment {env.name!r} has no workspace in stack {stack_name!r}",
            hint=f"stand it up first: toolkit env up {env.name}",
        )
    return stack.outputs()


def infra_database(ctx: Context, env: Environment, outputs: dict[str, Output]) -> DatabaseOutput:
    return database_output(outputs, stack=ctx.project.stack_order[0], environment=env.name)


def embedded_server(ctx: Context, env: Environment, port: int) -> EmbeddedServer:
    return EmbeddedServer(
        data_dir=ctx.project.env_state_dir(env) / "postgres" / "data", port=port, state_root=ctx.project.state_dir
    )


def database_target(
    ctx: Context, env: Environment, outputs: dict[str, Output] | None = None, *, start: bool = False
) -> DatabaseTarget:
    """The environment's database; with `start`, the local embedded server is started and provisioned."""
    if outputs is None:
        outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
    db = infra_database(ctx, env, outputs)
    embedded = env.database == "embedded"
    target = resolve_target(
        db, project_root=ctx.project.root, endpoint=ctx.endpoint, create_password_file=embedded and start
    )
    if embedded and start:
        server = embedded_server(ctx, env, db.port)
        if server.ensure_running():
            ctx.reporter.note(f"started the local PostgreSQL on {db.host}:{db.port}")
        provision(server, database=db.name, username=db.username, password=target.password)
    return target


def history_table(ctx: Context) -> HistoryTable:
    settings = ctx.project.migrations
    return HistoryTable(settings.schema, settings.history_table)
