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

from tests.projects import (
    free_port,
    new_state_dir,
    remove_every_state_dir,
    remove_state_dir,
    write_local_project,
    write_s3_project,
)

pytest_plugins = ["tests.figures"]  # the reliability figures, printed by the controller under pytest-xdist


@pytest.fixture(autouse=True)
def _no_secret_leaks_between_tests():
    from toolkit.support import masking

    yield
    masking.forget_all()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One embedded PostgreSQL 18 for the whole run (fsync off); tests get fresh databases on it."""
    import shutil
    import tempfile

    from toolkit.adapters.postgres.server import EmbeddedServer

    # Outside pytest's own temp root: pytest resets that folder to mode 0700 at every session start,
    # which would lock the server's unprivileged user out if another pytest session starts meanwhile.
    root = Path(tempfile.mkdtemp(prefix="toolkit-test-pg-"))
    server = EmbeddedServer(data_dir=root / "data", port=free_port(), fast=True)
    try:
        server.ensure_running()
        yield server
    finally:
        server.remove()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database(pg_server):
    """A fresh, empty database and login role on the session server, as a DatabaseTarget."""
    from toolkit.adapters.postgres.connection import DatabaseTarget
    from toolkit.adapters.postgres.server import provision

    name = f"t_{uuid.uuid4().hex[:12]}"
    password = f"pw-{uuid.uuid4().hex}"
    provision(pg_server, database=name, username=name, password=password)
    return DatabaseTarget(host="127.0.0.1", port=pg_server.port, name=name, username=name, password=password)


@pytest.fixture
def db_conn(database):
    from toolkit.adapters.postgres.connection import connect

    conn = connect(database)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[object]:
    """One real MariaDB (10.11, Debian's) for the whole run; tests get fresh databases and users on it."""
    from tests.mariadb import MariaDBServer

    server = MariaDBServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def mysql_database(mariadb_server):
    """A fresh, empty MySQL database and user on the session server, as a DatabaseTarget (engine mysql)."""
    return mariadb_server.new_database()


@pytest.fixture
def mysql_conn(mysql_database):
    from toolkit.adapters.mysql.connection import connect

    conn = connect(mysql_database)
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


@pytest.fixture
def local_project(tmp_path) -> Iterator[Path]:
    """The reference local environment in a temp folder; its state (and database) outside pytest's temp
    root (see `new_state_dir`)."""
    state_dir = new_state_dir()
    try:
        yield write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    finally:
        remove_state_dir(state_dir)


@pytest.fixture
def full_local_project(tmp_path) -> Iterator[Path]:
    """The whole reference local environment: infra and pipelines stacks, SQL, pipeline definitions."""
    state_dir = new_state_dir()
    try:
        yield write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir, with_pipelines=True)
    finally:
        remove_state_dir(state_dir)


@pytest.fixture(scope="session", autouse=True)
def _stop_every_test_server() -> Iterator[None]:
    """Whatever a test started in a state folder of ours, stopped by the end of the session."""
    yield
    remove_every_state_dir()


@pytest.fixture
def s3_project(tmp_path, moto_endpoint, database):
    from toolkit.adapters.aws.state_bucket import bootstrap_state_bucket

    bucket = f"state-{uuid.uuid4().hex[:10]}"
    bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint)
    return write_s3_project(tmp_path / "s3project", endpoint=moto_endpoint, bucket=bucket, database=database)


SLOW_FOLDERS = ("integration", "reliability")  # real servers and processes: `make test-fast` leaves them out

# The longest files, longest first: `make test` hands whole files to its workers in collection order
# (`--dist loadfile --no-loadscope-reorder`), so these start at once and the short files fill the other
# worker meanwhile, rather than one long file starting last and running alone. Order only, never which
# tests run; a name that no longer exists is simply not found.
LONGEST_FILES = (
    "integration/commands/test_emulator_lifecycle.py",  # ~11 min under load, mostly the provider's RDS waiters
    "reliability/test_db_concurrency.py",  # ~6 min
    "reliability/test_fuzz.py",  # ~4 min
)


def pytest_collection_modifyitems(config, items):
    """Every test in tests/integration and tests/reliability is marked slow (a file that forgets its
    `pytestmark` fails here, rather than sneaking real servers into `make test-fast`); none elsewhere is.
    Then the longest files go first (`LONGEST_FILES`); the rest keep their order."""
    root = Path(__file__).resolve().parent
    wrong = []
    for item in items:
        folder = Path(str(item.path)).resolve().relative_to(root).parts[0]
        slow = item.get_closest_marker("slow") is not None
        if slow != (folder in SLOW_FOLDERS):
            wrong.append(f"{item.nodeid}: {'marked' if slow else 'not marked'} slow in tests/{folder}/")
    if wrong:
        raise pytest.UsageError("slow markers do not match the test folders:\n" + "\n".join(wrong))
    rank = {name: position for position, name in enumerate(LONGEST_FILES)}

    def position(item) -> int:
        return rank.get(Path(str(item.path)).resolve().relative_to(root).as_posix(), len(rank))

    items.sort(key=position)  # stable: within a rank, collection order
