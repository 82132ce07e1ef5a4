"""`toolkit init [--from-flyway flyway.conf|flyway.toml]`: a new project in an existing repository.

Writes a minimal toolkit.toml, a provider-free local stack, sql/, pipelines/, tfvars/ and a Makefile
snippet (toolkit.mk), and never writes over anything: when one of them exists, nothing is written. From a
Flyway configuration, `[migrations]` follows it and sql points at Flyway's folder, whose files stay as
they are. The local database gets a port of its own for this checkout, so `toolkit env up local` works
next to another checkout on the same machine.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from toolkit.deploy.context import Context
from toolkit.errors import ConfigError
from toolkit.project.flyway_config import read_flyway_config
from toolkit.project.scaffold import PORT_BASE, PORT_SPAN, checkout_port, scaffold


@dataclass(frozen=True)
class InitResult:
    root: str
    written: tuple[str, ...]  # paths relative to root, in the order written
    sql: str  # the migrations folder toolkit.toml names
    port: int  # the local database's port
    from_flyway: str | None = None
    notes: tuple[str, ...] = ()


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def local_port(root: Path) -> int:
    """This checkout's port, or the next free one in the range when something already listens there."""
    first = checkout_port(root)
    for step in range(50):
        port = PORT_BASE + (first - PORT_BASE + step) % PORT_SPAN
        if _free(port):
            return port
    return first


def init_project(ctx: Context | None, root: Path, *, from_flyway: Path | None = None) -> InitResult:
    """Write a new project's files into `root` (an existing folder, typically a repository's root). `ctx` is
    the project found from there, if any: one in `root` itself is refused."""
    root = root.resolve()
    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder", hint="create it first, or pass -C PATH")
    if ctx is not None and ctx.project.config_path.parent == root:
        raise ConfigError(
            f"{ctx.project.config_path} exists: this folder is a toolkit project already",
            hint="edit toolkit.toml by hand (README, Configuration); init writes nothing over anything",
        )
    flyway = read_flyway_config(from_flyway.resolve(), root) if from_flyway is not None else None
    port = local_port(root)
    files = scaffold(root.name, port, flyway)
    existing = sorted(path for path in files if (root / path).exists())
    if existing:
        raise ConfigError(
            f"would write over {', '.join(existing)} in {root}; nothing was written",
            hint="move them away first (init only ever writes new files)",
        )
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:  # "x": never over a file that appeared meanwhile
            handle.write(text)
    notes = list(flyway.notes) if flyway is not None else []
    gitignore = root / ".gitignore"
    if not gitignore.is_file() or ".toolkit" not in gitignore.read_text(encoding="utf-8", errors="replace"):
        notes.append("add `.toolkit/` to .gitignore: it holds local state and the local database")
    return InitResult(
        root=str(root),
        written=tuple(files),
        sql=flyway.sql if flyway is not None else "sql",
        port=port,
        from_flyway=str(from_flyway) if from_flyway is not None else None,
        notes=tuple(notes),
    )
