"""Who holds a loopback port, and why the embedded server did not start: the words of a message that
names the port, its holder when it can be found, and the server's log, never "Examine the log output."."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from pathlib import Path

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp
_TAIL_BYTES = 16_384  # the end of the server's log is where a failed start says why
_BIND_WORDS = ("could not bind", "Address already in use", "could not create any TCP/IP sockets")


def port_holder(port: int) -> str | None:
    """Who listens on 127.0.0.1:port, when someone does: another toolkit server (named by its data
    directory, from its socket's lock file), a process this user can see (pid and name), or "another
    program"; None when the port is free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return None
        except OSError:
            pass
    for lock in Path(tempfile.gettempdir()).glob(f"toolkit-pg-*/.s.PGSQL.{port}.lock"):
        with contextlib.suppress(OSError, IndexError):
            return f"the local PostgreSQL of another checkout (data in {lock.read_text().splitlines()[1]})"
    return listening_process(port) or "another program"


def listening_process(port: int) -> str | None:
    """'process 1234 (name)' listening on the port on 127.0.0.1 or every address, when /proc shows it
    (Linux, and only another user's process is hidden); None otherwise."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    with contextlib.suppress(OSError):
        for pid in (name for name in os.listdir("/proc") if name.isdigit()):
            if _holds(Path("/proc", pid, "fd"), inodes):
                with contextlib.suppress(OSError):
                    return f"process {pid} ({Path('/proc', pid, 'comm').read_text().strip()})"
                return f"process {pid}"
    return None


def _holds(fds: Path, inodes: set[str]) -> bool:
    """Whether one of the open files in /proc/PID/fd is one of the sockets; a file closed while we
    look, or a process we may not look into, is no match."""
    try:
        names = os.listdir(fds)
    except OSError:
        return False
    for fd in names:
        with contextlib.suppress(OSError):
            if os.readlink(fds / fd) in inodes:
                return True
    return False


def _listening_inodes(port: int) -> set[str]:
    wanted = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[1] in wanted and fields[3] == _LISTEN:
                found.add(f"socket:[{fields[9]}]")
    return found


def start_failure(port: int, log_file: Path, said: str) -> str:
    """Why the server did not start on the port, from its log's last lines and who holds the port
    now; `said` is pg_ctl's own last words, used only when the log says nothing."""
    tail = _log_tail(log_file)
    bind = next((line for word in _BIND_WORDS for line in reversed(tail) if word in line), None)
    if bind is not None:
        holder = port_holder(port)
        held = f" by {holder}" if holder else " (by a program that has since let it go)"
        return f"port {port} on 127.0.0.1 is in use{held}; the server's log says: {bind}"
    reason = next((line for line in reversed(tail) if "FATAL" in line or "PANIC" in line), None)
    if reason is not None:
        return f"the server's log says: {reason}"
    if said and "Examine the log output" not in said:
        return said
    return "it wrote no reason in its log"


def _log_tail(log_file: Path) -> list[str]:
    try:
        with log_file.open("rb") as handle:
            handle.seek(max(0, log_file.stat().st_size - _TAIL_BYTES))
            return [line.strip() for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return []
