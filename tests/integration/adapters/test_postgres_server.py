"""The local PostgreSQL lets nobody else on the machine in, and leaves other people's folders alone."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from tests.projects import free_port
from toolkit.adapters.postgres.server import SYSTEM_USER, EmbeddedServer, provision
from toolkit.errors import DatabaseError

pytestmark = pytest.mark.slow
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: another OS user, and folders root owns")


def server_uid() -> int:
    return pwd.getpwnam(SYSTEM_USER).pw_uid if os.geteuid() == 0 else os.geteuid()


def test_the_socket_folder_is_the_server_users_own_mode_0700(pg_server):
    info = pg_server.socket_dir.lstat()
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == server_uid()


def test_a_socket_login_as_another_role_is_refused_without_a_password(pg_server, database):
    with pytest.raises(psycopg2.OperationalError, match="authentication failed|no pg_hba.conf entry"):
        psycopg2.connect(host=str(pg_server.socket_dir), port=pg_server.port, user=database.username, dbname="postgres")
    conn = psycopg2.connect(**pg_server.superuser_dsn())  # toolkit's own way in still works
    conn.close()


@as_root
def test_another_os_user_cannot_log_in_as_the_superuser(pg_server):
    """What any local user could do: psql over the socket as postgres, then COPY ... TO PROGRAM."""
    done = subprocess.run(
        [pg_server.bin("psql"), "-h", str(pg_server.socket_dir), "-p", str(pg_server.port), "-U", "postgres"]
        + ["-d", "postgres", "-Atc", "SELECT current_user"],
        user="nobody",
        capture_output=True,
        text=True,
        timeout=30,
        env={"PGCONNECT_TIMEOUT": "5"},
    )
    assert done.returncode != 0 and "postgres" not in done.stdout, done.stdout
    assert "Permission denied" in done.stderr, done.stderr


@pytest.fixture
def outer_folder():
    """A 0700 folder of root's, like /root, above a database's own folder."""
    outer = Path(tempfile.mkdtemp(prefix="toolkit-outer-"))
    servers: list[EmbeddedServer] = []
    yield outer, servers
    for server in servers:
        server.remove()
    shutil.rmtree(outer, ignore_errors=True)


@as_root
def test_folders_above_the_state_dir_keep_their_modes(outer_folder):
    outer, servers = outer_folder
    state = outer / "project" / ".toolkit"
    state.mkdir(parents=True, mode=0o700)
    server = EmbeddedServer(
        data_dir=state / "local" / "postgres" / "data", port=free_port(), fast=True, state_root=state
    )
    servers.append(server)
    with pytest.raises(DatabaseError) as info:
        server.ensure_running()
    assert f"cannot enter {outer} (mode 0700)" in str(info.value) and f"chmod o+x {outer}" in str(info.value)
    assert stat.S_IMODE(outer.stat().st_mode) == 0o700
    outer.chmod(0o711)  # the user's decision, as the hint says
    assert server.ensure_running()
    assert stat.S_IMODE(outer.stat().st_mode) == 0o711
    assert stat.S_IMODE(state.stat().st_mode) == 0o711  # toolkit's own folder: opened to pass through only
    conn = psycopg2.connect(**server.superuser_dsn())
    conn.close()


@as_root
def test_folders_toolkit_creates_above_the_state_root_let_the_server_through(outer_folder):
    """As /var/lib/toolkit-postgres on a fresh machine: toolkit makes it, under its umask 077, on the way to
    an outside state root; made 0700 it would stop the server's user at the folder toolkit itself made."""
    outer, servers = outer_folder
    outer.chmod(0o755)  # like /var/lib
    made_now = outer / "toolkit-postgres"
    state = made_now / "0123456789abcdef"
    server = EmbeddedServer(data_dir=state / "local" / "data", port=free_port(), fast=True, state_root=state)
    servers.append(server)
    old = os.umask(0o077)
    try:
        assert server.ensure_running()
    finally:
        os.umask(old)
    assert stat.S_IMODE(made_now.stat().st_mode) == 0o711  # enterable, not listable
    assert stat.S_IMODE(outer.stat().st_mode) == 0o755  # what existed before keeps its mode
    psycopg2.connect(**server.superuser_dsn()).close()


def test_a_server_from_an_older_toolkit_loses_trust_logins(outer_folder):
    outer, servers = outer_folder
    outer.chmod(0o711)
    server = EmbeddedServer(data_dir=outer / "pg" / "data", port=free_port(), fast=True)
    servers.append(server)
    server.ensure_running()
    provision(server, database="app", username="app", password="app-password-1")
    hba = server.data_dir / "pg_hba.conf"
    trusting = "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"  # what toolkit used to write
    socket_login = {"host": str(server.socket_dir), "port": server.port, "user": "app", "dbname": "app"}

    hba.write_text(trusting)
    server.stop()
    assert server.ensure_running()  # a start rewrites the files
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(**socket_login)

    hba.write_text(trusting)
    subprocess.run(
        [server.bin("pg_ctl"), "-D", str(server.data_dir), "reload"],
        user=SYSTEM_USER if os.geteuid() == 0 else None,
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 10
    while not accepts(socket_login):  # a reload is applied asynchronously
        assert time.monotonic() < deadline, "trust never came back"
        time.sleep(0.05)
    assert not server.ensure_running()  # already running: the files are rewritten and reloaded
    deadline = time.monotonic() + 10
    while accepts(socket_login):
        assert time.monotonic() < deadline, "the socket still trusts every login"
        time.sleep(0.05)


def accepts(login: dict) -> bool:
    try:
        psycopg2.connect(**login).close()
        return True
    except psycopg2.OperationalError:
        return False
