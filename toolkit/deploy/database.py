"""An environment's database, found from its Terraform outputs: the target (password from its 0600 file or
from Secrets Manager), the embedded server that stands in for it locally, its placeholders, a session.

Every verb that touches an environment's database (env up, db *, plan, status) connects through here, so
the connection always comes from that environment's outputs, never from a setting of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.adapters.postgres.connection import DatabaseTarget, connect, read_password_file
from toolkit.deploy.context import Context
from toolkit.deploy.stacks import stack_outputs
from toolkit.errors import ConfigError, DatabaseError, ToolkitError
from toolkit.migrations.history import HistoryTable
from toolkit.project.model import Environment
from toolkit.terraform.outputs import DatabaseOutput, Output, database_outputs

if TYPE_CHECKING:  # the server, the drivers and AWS are imported where they are used: a verified no-op
    # `db migrate` connects to a running PostgreSQL and needs none of the rest
    from toolkit.adapters.postgres.server import EmbeddedServer
    from toolkit.migrations.mysql_history import MySQLHistoryTable
    from toolkit.migrations.placeholders import Placeholders
    from toolkit.migrations.source import LoadedMigrations


def history_table(ctx: Context, target: DatabaseTarget | None = None) -> HistoryTable | MySQLHistoryTable:
    """The target's history table: on MySQL in the target's own database (a MySQL schema is a database,
    as Flyway's default schema there is the connection's database)."""
    settings = ctx.project.migrations
    if target is not None and target.engine == "mysql":
        from toolkit.migrations.engine import history_for

        return history_for("mysql", target.name, settings.history_table)
    return HistoryTable(settings.schema, settings.history_table)


def connect_database(target: DatabaseTarget, *, attempts: int = 5, lock_timeout: str | None = None):
    """One connection to the target, with its engine's driver (autocommit on). `lock_timeout` bounds every
    lock wait of a PostgreSQL session; MySQL's is set per run (migrations/mysql_apply.py)."""
    if target.engine == "mysql":
        from toolkit.adapters.mysql.connection import connect as connect_mysql

        return connect_mysql(target, attempts=attempts)
    return connect(target, attempts=attempts, lock_timeout=lock_timeout)


def infra_database(ctx: Context, env: Environment, outputs: dict[str, Output]) -> DatabaseOutput:
    """The context's database from the first stack's `databases` output (or its one `database`), every
    database of the project checked against the output contract."""
    names = {database.name: database.engine for database in ctx.project.databases}
    found = database_outputs(outputs, stack=ctx.project.stack_order[0], environment=env.name, names=names)
    _no_shared_history(ctx, env, found)
    return found[ctx.current_database.name]


def _no_shared_history(ctx: Context, env: Environment, found: dict[str, DatabaseOutput]) -> None:
    """Two databases of the project that are one database with one history table would each take the
    other's migrations for missing files: refused, naming both."""
    seen: dict[tuple, str] = {}
    for database in ctx.project.databases:
        db, settings = found[database.name], database.settings
        key = (db.host, db.port, db.name, settings.schema, settings.history_table)
        if key in seen:
            raise ConfigError(
                f"databases {seen[key]} and {database.name} of {env.name!r} are the same database "
                f"({db.name} on {db.host}:{db.port}) with the same history table "
                f"{settings.schema}.{settings.history_table}",
                hint="point them at different databases, or give one its own history_table",
            )
        seen[key] = database.name


def has_database_outputs(outputs: dict[str, Output]) -> bool:
    """Whether the stack publishes its databases at all (an environment not yet up has no outputs)."""
    return "databases" in outputs or "database" in outputs


def server_root(ctx: Context, env: Environment) -> Path:
    """The folder of the environment's local server (its data, its log): in the state folder, or, when
    toolkit runs as root and the server's unprivileged user cannot enter the state folder (a clone under
    /root), outside it. Once the data exists it stays where it is."""
    from toolkit.adapters.postgres.server import server_can_reach
    from toolkit.deploy.paths import enterable_outside_root

    inside, outside = ctx.paths.postgres(env.name), ctx.paths.postgres_outside(env.name)
    if (outside / "data").is_dir():
        return outside
    if (inside / "data").is_dir() or server_can_reach(ctx.paths.root):
        return inside
    enterable_outside_root()
    return outside


def embedded_server(ctx: Context, env: Environment, port: int) -> EmbeddedServer:
    from toolkit.adapters.postgres.server import EmbeddedServer

    root = server_root(ctx, env)
    top = ctx.paths.root if root == ctx.paths.postgres(env.name) else root.parent
    return EmbeddedServer(data_dir=root / "data", port=port, state_root=top)


def resolve_target(
    db: DatabaseOutput, *, project_root: Path, endpoint: str | None = None, create_password_file: bool = False
) -> DatabaseTarget:
    """The target the `database` output describes: the password from its file or from Secrets Manager."""
    if db.password_file:
        path = Path(db.password_file)
        password = read_password_file(path if path.is_absolute() else project_root / path, create=create_password_file)
    elif db.password_secret_arn:
        from toolkit.adapters.aws.secrets_manager import read_database_password

        password = read_database_password(db.password_secret_arn, endpoint=endpoint)
    else:
        raise DatabaseError(
            "the database output names neither password_file nor password_secret_arn",
            hint="the infrastructure stack must say where the password lives",
        )
    return DatabaseTarget(
        host=db.host, port=db.port, name=db.name, username=db.username, password=password, engine=db.engine
    )


def database_target(
    ctx: Context,
    env: Environment,
    outputs: dict[str, Output] | None = None,
    *,
    start: bool = False,
    reprovision: bool = True,
) -> DatabaseTarget:
    """The environment's database; with `start`, the local embedded server is started and provisioned
    (with `reprovision=False`, provisioned only if it was started now: `open_database`)."""
    if outputs is None:
        outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
    db = infra_database(ctx, env, outputs)
    engine, table = ctx.project.migrations.engine, ctx.project.migrations.key
    if db.engine != engine:
        raise ConfigError(
            f"stack {ctx.project.stack_order[0]!r} (environment {env.name!r}) says the database engine is "
            f"{db.engine!r}, but [{table}].engine is {engine!r}",
            path=str(ctx.project.config_path),
            key=f"{table}.engine",
            hint=f'the migration files are written for one engine: set engine = "{db.engine}" under [{table}] '
            "if they are that engine's SQL, or correct the stack's database output",
        )
    embedded = env.database == "embedded"
    if embedded and db.engine != "postgres":
        raise ConfigError(
            f'environment {env.name!r} has database = "embedded" but its database engine is {db.engine!r}',
            hint="the embedded local database is PostgreSQL; point the stack's `database` output at a MySQL "
            "server and leave `database` out of the environment",
        )
    target = resolve_target(
        db, project_root=ctx.project.root, endpoint=ctx.endpoint, create_password_file=embedded and start
    )
    if ctx.endpoint and not embedded:
        from toolkit.deploy.standin import is_emulated_rds, stand_in

        if is_emulated_rds(db):
            return stand_in(ctx, env, db, target)  # emulator mode: the RDS instance's stand-in
    if embedded and start:
        from toolkit.adapters.postgres.server import provision

        _one_local_server(ctx, env, outputs, db)
        server = embedded_server(ctx, env, db.port)
        started = server.ensure_running()
        if started:
            ctx.reporter.note(f"started the local PostgreSQL on {db.host}:{db.port}")
        if started or reprovision:
            provision(server, database=db.name, username=db.username, password=target.password)
    return target


def open_database(ctx: Context, env: Environment, outputs: dict[str, Output]) -> tuple[DatabaseTarget, object]:
    """The environment's database (the local one started) and one connection to it. A local server that
    was already running is provisioned (role, password and database rewritten as superuser) only when the
    login role cannot get in: a password login (scram-sha-256 over TCP) to that database proves that the
    role, its password and the database are what provisioning would leave."""
    from toolkit.adapters.postgres.server import provision

    target = database_target(ctx, env, outputs, start=True, reprovision=False)
    if env.database == "embedded":
        try:
            return target, connect_database(target, attempts=1)
        except DatabaseError:  # a new database or role, a changed password file: provision as before
            provision(embedded_server(ctx, env, target.port), database=target.name, username=target.username,
                      password=target.password)  # fmt: skip
    return target, connect_database(target)


def _one_local_server(ctx: Context, env: Environment, outputs: dict[str, Output], db: DatabaseOutput) -> None:
    """An embedded environment's databases live in its one local server: each must name its host and port."""
    for database in ctx.project.databases:
        other = infra_database(ctx.for_database(database), env, outputs)
        if (other.host, other.port) != (db.host, db.port):
            raise ConfigError(
                f"the local databases of {env.name!r} must share one server: {database.name} is at "
                f"{other.host}:{other.port}, {ctx.current_database.name} at {db.host}:{db.port}",
                hint="give every database of the local stack the same host and port (one embedded PostgreSQL)",
            )


def placeholders_for(
    ctx: Context, env: Environment, outputs: dict[str, Output], target: DatabaseTarget
) -> Placeholders:
    """values(ENV), then [migrations.placeholders], plus Flyway's built-in placeholders for this connection."""
    from toolkit.migrations.placeholders import Placeholders
    from toolkit.project.values import resolve_values
    from toolkit.terraform.hcl import read_stack

    first = ctx.project.stack_order[0]
    sensitive = [v.name for v in read_stack(env.stack_dir(first)).variables.values() if v.sensitive]
    values = resolve_values(ctx.as_terraform_sees(env), ctx.project.root, {first: outputs}, sensitive)
    settings = ctx.project.migrations
    builtins = {
        "flyway:defaultSchema": settings.schema,
        "flyway:user": target.username,
        "flyway:database": target.name,
        "flyway:timestamp": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),  # Flyway's, once per run
        "flyway:workingDirectory": os.getcwd(),
        "flyway:table": settings.history_table,
    }  # flyway:filename is set per file (Placeholders.for_file)
    return Placeholders(values, builtins, settings.placeholders, settings.placeholder_replacement)


@contextlib.contextmanager
def outputs_lock(ctx: Context, env: Environment) -> Iterator[None]:
    """Concurrent toolkit runs on one machine share one Terraform data directory; `init` in two of them
    at once fails on the state lock, so reading outputs is serialised between local processes."""
    path = ctx.paths.outputs_lock(env.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class DatabaseSession:
    """One connection to an environment's database, with what the migration engine needs beside it."""

    env: Environment
    conn: object
    target: DatabaseTarget
    placeholders: Placeholders
    migrations: LoadedMigrations
    outputs: dict[str, Output]

    def plan_options(self, ctx: Context) -> dict:
        return {
            "environment": self.env.name,
            "out_of_order": ctx.project.migrations.out_of_order,
            "placeholders": self.placeholders,
        }


@contextlib.contextmanager
def open_session(ctx: Context, env: Environment, migrations: LoadedMigrations) -> Iterator[DatabaseSession]:
    """Connect to the environment's database as its outputs say (starting the local server if it is down)."""
    from toolkit.migrations.engine import database_errors

    with outputs_lock(ctx, env):
        outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
    target = database_target(ctx, env, outputs)
    if env.database == "embedded" and embedded_server(ctx, env, target.port).running_port() is None:
        # Start (and provision) the local server only when it is down: provisioning rewrites the role,
        # which concurrent runs must not all do at once.
        target = database_target(ctx, env, outputs, start=True)
    conn = connect_database(target, lock_timeout=ctx.project.migrations.lock_timeout)
    try:
        with database_errors(target.engine, f"database of {env.name}"):
            yield DatabaseSession(env, conn, target, placeholders_for(ctx, env, outputs, target), migrations, outputs)
    finally:
        conn.close()


def remove_local_database(ctx: Context, env: Environment, infra_outputs: dict[str, Output]) -> bool:
    """Stop and delete the embedded server of the environment and the password file toolkit made for it."""
    from toolkit.adapters.postgres.server import EmbeddedServer
    from toolkit.deploy.standin import remove_stand_ins

    if env.database != "embedded":
        if not ctx.endpoint:
            return False
        with ctx.reporter.step("stand-in databases"):
            return remove_stand_ins(ctx, env)
    port, password_files = 0, []
    with contextlib.suppress(ToolkitError):
        for database in ctx.project.databases:
            db = infra_database(ctx.for_database(database), env, infra_outputs)
            port = port or db.port
            password_files += [db.password_file] if db.password_file else []
    removed = False
    with ctx.reporter.step("local database"):
        for folder in (ctx.paths.postgres(env.name), ctx.paths.postgres_outside(env.name)):
            if (folder / "data").is_dir():
                EmbeddedServer(data_dir=folder / "data", port=port).remove()
            if folder.exists():
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
                removed = True
        with contextlib.suppress(OSError):  # the checkout's folder outside, once no environment uses it
            ctx.paths.postgres_outside(env.name).parent.rmdir()
        for password_file in password_files:  # toolkit made them for these databases, so they go with them
            path = Path(password_file)
            (path if path.is_absolute() else ctx.project.root / path).unlink(missing_ok=True)
    return removed
