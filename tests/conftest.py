"""Shared fixtures: a real PostgreSQL server, a moto server, fixture projects. No mocks of our own parts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _no_secret_leaks_between_tests():
    from toolkit import secrets

    yield
    secrets.forget_all()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> Iterator[object]:
    """One embedded PostgreSQL 18 for the whole run (fsync off); tests get fresh databases on it."""
    from toolkit.database.embedded import EmbeddedServer

    root = tmp_path_factory.mktemp("pg")
    server = EmbeddedServer(data_dir=root / "data", port=free_port(), fast=True)
    server.ensure_running()
    yield server
    server.remove()


@pytest.fixture
def database(pg_server):
    """A fresh, empty database and login role on the session server, as a DatabaseTarget."""
    from toolkit.database.connection import DatabaseTarget
    from toolkit.database.embedded import provision

    name = f"t_{uuid.uuid4().hex[:12]}"
    password = f"pw-{uuid.uuid4().hex}"
    provision(pg_server, database=name, username=name, password=password)
    return DatabaseTarget(host="127.0.0.1", port=pg_server.port, name=name, username=name, password=password)


@pytest.fixture
def db_conn(database):
    from toolkit.database.connection import connect

    conn = connect(database)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real local AWS endpoint (moto server) on a free loopback port, with dummy credentials."""
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed after the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto server did not start")
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def write_local_project(root: Path, *, port: int, sql_from: Path | None = REPO / "sql") -> Path:
    """A copy of the reference project's local environment, on its own port, under `root`."""
    import json
    import shutil

    shutil.copytree(REPO / "terraform" / "local", root / "terraform" / "local")
    (root / "tfvars").mkdir()
    (root / "tfvars" / "local.tfvars.json").write_text(
        json.dumps(
            {
                "project": "demo",
                "db_port": port,
                "db_name": "demo",
                "db_username": "demo_app",
                "db_password_file": ".toolkit/local/postgres/password",
            }
        )
    )
    if sql_from is not None:
        shutil.copytree(sql_from, root / "sql")
    else:
        (root / "sql").mkdir()
    (root / "toolkit.toml").write_text(
        'stacks = ["infra"]\n\n[project]\nname = "demo"\n\n'
        '[environments.local]\nstacks = { infra = "terraform/local" }\nbackend = { type = "local" }\n'
        'var_files = ["local.tfvars.json"]\ndatabase = "embedded"\ncreate_workspace = true\n'
    )
    return root


@pytest.fixture
def local_project(tmp_path) -> Path:
    return write_local_project(tmp_path / "project", port=free_port())


def available_engines() -> list[str]:
    import shutil

    return ["embedded"] + [name for name in ("terraform", "tofu") if shutil.which(name)]
