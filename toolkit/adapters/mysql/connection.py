"""MySQL connections (PyMySQL): TLS for anything off this machine, retries, autocommit on."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from toolkit.adapters.postgres.connection import DatabaseTarget, _is_local
from toolkit.errors import DatabaseError
from toolkit.support import masking
from toolkit.support.log import get_logger

log = get_logger(__name__)
ACCESS_DENIED = 1045


def ssl_options(host: str, environ: Mapping[str, str]) -> dict | None:
    """As for PostgreSQL: verified TLS against TOOLKIT_DB_SSLROOTCERT (e.g. the RDS bundle), otherwise
    encrypted but unverified; a loopback host or a socket connects without TLS."""
    if _is_local(host):
        return None
    root = environ.get("TOOLKIT_DB_SSLROOTCERT")
    return {"ca": root, "check_hostname": True} if root else {"check_hostname": False}


def connect_kwargs(target: DatabaseTarget, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    where = {"unix_socket": target.host} if target.host.startswith("/") else {"host": target.host, "port": target.port}
    return {
        **where,
        "user": target.username,
        "password": target.password,
        "database": target.name,
        "connect_timeout": 10,
        "charset": "utf8mb4",
        "autocommit": True,
        "program_name": "toolkit",
        "ssl": ssl_options(target.host, os.environ if environ is None else environ),
    }


def connect(target: DatabaseTarget, *, attempts: int = 5, first_delay: float = 0.5):
    """One PyMySQL connection, retried with backoff while the server is starting or unreachable."""
    import pymysql

    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return pymysql.connect(**connect_kwargs(target))
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else None
            reason = masking.mask(str(exc.args[1] if len(exc.args) > 1 else exc))
            if code == ACCESS_DENIED or attempt == attempts:
                raise DatabaseError(
                    f"cannot connect to {target.url} after {attempt} attempt(s): {reason}",
                    hint="check that the environment is up (`toolkit env status`) and reachable",
                ) from None
            log.info("database not reachable yet (%s), retrying in %.1fs", reason, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
    raise AssertionError("unreachable")
