"""PostgreSQL connections: a target (where and as whom), TLS for anything off this machine, retries."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import DatabaseError
from toolkit.support import masking
from toolkit.support.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class DatabaseTarget:
    host: str
    port: int
    name: str
    username: str
    password: str = field(repr=False)
    engine: str = "postgres"  # or "mysql" (toolkit/adapters/mysql/connection.py connects to those)

    @property
    def url(self) -> str:
        """The connection URL with the password masked: safe to print."""
        scheme = "mysql" if self.engine == "mysql" else "postgresql"
        return f"{scheme}://{self.username}:{masking.MASK}@{self.host}:{self.port}/{self.name}"

    def connect_kwargs(self, environ: Mapping[str, str] | None = None) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.name,
            "user": self.username,
            "password": self.password,
            "connect_timeout": 10,
            "application_name": "toolkit",
            **tls_kwargs(self.host, os.environ if environ is None else environ),
        }


def tls_kwargs(host: str, environ: Mapping[str, str]) -> dict[str, str]:
    """TLS for any database that is not on this machine: `verify-full` against the CA bundle named by
    TOOLKIT_DB_SSLROOTCERT (or libpq's PGSSLROOTCERT), e.g. the RDS global bundle; otherwise `require`
    (encrypted, server not verified: no RDS CA ships with toolkit or its dependencies). A loopback host or
    a Unix socket (the embedded local server, which has no certificate) keeps libpq's default."""
    if _is_local(host):
        return {}
    root = environ.get("TOOLKIT_DB_SSLROOTCERT") or environ.get("PGSSLROOTCERT")
    if root:
        return {"sslmode": "verify-full", "sslrootcert": root}
    return {"sslmode": "require"}


def _is_local(host: str) -> bool:
    if host.startswith("/") or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_password_file(path: Path, *, create: bool = False) -> str:
    """The local environment's password lives in a 0600 file; created with a random value if asked."""
    if not path.exists() and create:
        import secrets as random

        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(random.token_urlsafe(24) + "\n", encoding="utf-8")
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DatabaseError(
            f"cannot read the database password file {path}: {exc.strerror}",
            hint="run `toolkit env up` for this environment first",
        ) from exc
    if not password:
        raise DatabaseError(f"the database password file {path} is empty")
    masking.register(password)
    return password


def connect(target: DatabaseTarget, *, attempts: int = 5, first_delay: float = 0.5, lock_timeout: str | None = None):
    """One psycopg2 connection, retried with backoff while the server is starting or unreachable. With
    `lock_timeout` (PostgreSQL syntax, e.g. "10s"), no statement of the session waits longer than that for
    a lock (the session's default: `RESET ALL` keeps it, a migration's own setting overrides it). Every
    wait is interruptible: Ctrl-C sends PostgreSQL's cancel request (`interruptible_wait`)."""
    import psycopg2
    import psycopg2.extensions

    psycopg2.extensions.set_wait_callback(interruptible_wait)
    kwargs = target.connect_kwargs()
    if lock_timeout:
        kwargs["options"] = f"-c lock_timeout={lock_timeout}"
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            conn = psycopg2.connect(**kwargs)
            conn.autocommit = True
            return conn
        except psycopg2.OperationalError as exc:
            reason = masking.mask(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
            if "password authentication failed" in reason or attempt == attempts:
                raise DatabaseError(
                    f"cannot connect to {target.url} after {attempt} attempt(s): {reason}",
                    hint="check that the environment is up (`toolkit env status`) and reachable",
                ) from None
            log.info("database not reachable yet (%s), retrying in %.1fs", reason, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
    raise AssertionError("unreachable")


def interruptible_wait(conn) -> None:
    """psycopg2's wait callback: wait for the server with select(), so a signal handler runs while a
    statement waits (a blocking libpq call would be deaf to Ctrl-C and SIGTERM). On KeyboardInterrupt it
    sends PostgreSQL's cancel request, waits for the server to stop the statement, then re-raises the
    interrupt (exit 130), never the resulting QueryCanceled."""
    import select

    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    interrupted = False
    while True:
        try:
            state = conn.poll()
            if state == POLL_OK:
                break
            if state == POLL_READ:
                select.select([conn.fileno()], [], [], 1.0)
            elif state == POLL_WRITE:
                select.select([], [conn.fileno()], [], 1.0)
        except KeyboardInterrupt:
            if not interrupted:
                interrupted = True
                conn.cancel()
        except Exception:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
    if interrupted:
        raise KeyboardInterrupt


def copy_in(cursor, sql: str, data: str) -> None:
    """`COPY … FROM STDIN` with `data`: psycopg2 refuses copy_expert while a wait callback is set, so it
    is lifted for the COPY alone (the COPY is then not interruptible; its data is in the file, bounded)."""
    import io

    import psycopg2.extensions

    previous = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        cursor.copy_expert(sql, io.StringIO(data))
    finally:
        psycopg2.extensions.set_wait_callback(previous)
