"""A port taken when the embedded PostgreSQL starts: one message naming the port, who holds it (here
this very test process, found through /proc) and the server's log, never pg_ctl's "Examine the log
output.". The port is taken in the one window toolkit's own check cannot see: after the check, while
pg_ctl starts the server (the moment its log file appears)."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from tests.projects import free_port, new_state_dir, remove_state_dir
from toolkit.adapters.postgres.server import EmbeddedServer
from toolkit.errors import DatabaseError

pytestmark = pytest.mark.slow


@pytest.fixture
def state_dir():
    folder = new_state_dir()
    try:
        yield folder
    finally:
        remove_state_dir(folder)


def _take_port_when(path, port: int, taken: list[socket.socket], stop: threading.Event) -> None:
    while not stop.is_set() and not path.exists():
        time.sleep(0.0005)
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    taken.append(holder)


def test_a_port_taken_as_the_server_starts_is_named_with_its_holder_and_the_log(state_dir, record_figure):
    port = free_port()
    server = EmbeddedServer(
        data_dir=state_dir / "local" / "postgres" / "data", port=port, fast=True, state_root=state_dir
    )
    taken: list[socket.socket] = []
    stop = threading.Event()
    thief = threading.Thread(target=_take_port_when, args=(server.log_file, port, taken, stop), daemon=True)
    thief.start()
    try:
        with pytest.raises(DatabaseError) as info:
            server.ensure_running()
    finally:
        stop.set()
        thief.join(timeout=10)
        for sock in taken:
            sock.close()
    message, hint = str(info.value), info.value.hint or ""
    assert taken, "the port was never taken"
    assert f"PostgreSQL did not start on 127.0.0.1:{port}" in message, message
    assert f"port {port} on 127.0.0.1 is in use by process {os.getpid()} (" in message, message
    assert "Address already in use" in message, message
    assert "Examine the log output" not in message + hint, message
    assert str(server.log_file) in hint and "db_port" in hint, hint
    record_figure("port in use", "a port taken while pg_ctl starts: the port, its holder (pid) and the log named")


def test_a_port_held_before_the_start_names_the_process(state_dir):
    port = free_port()
    server = EmbeddedServer(
        data_dir=state_dir / "local" / "postgres" / "data", port=port, fast=True, state_root=state_dir
    )
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", port))
        holder.listen()
        with pytest.raises(DatabaseError) as info:
            server.ensure_running()
    assert f"port {port} on 127.0.0.1 is taken by process {os.getpid()} (" in str(info.value), str(info.value)
