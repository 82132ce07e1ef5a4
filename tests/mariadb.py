"""A real MariaDB server for the tests: its own datadir, socket and free port under a temp folder.

MariaDB 10.11 from Debian's packages is the MySQL these machines can install (`.ci/install-mariadb`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.projects import free_port


def binaries() -> tuple[str, str] | None:
    server = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    return (server, install) if Path(server).exists() and install else None


class MariaDBServer:
    def __init__(self, parent: Path | None = None) -> None:
        """`parent`: where its datadir goes (the benchmark's memory folder); the system's temp folder by default."""
        found = binaries()
        if found is None:
            raise RuntimeError(
                "mariadbd is not installed: run `.ci/install-mariadb` (as root; `make test` runs it) "
                "or `apt-get install -y mariadb-server`"
            )
        self.server, self.install = found
        self.root = Path(tempfile.mkdtemp(prefix="toolkit-test-mariadb-", dir=parent))
        self.socket = str(self.root / "mysqld.sock")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def _user(self) -> list[str]:
        import os

        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self) -> None:
        data = self.root / "data"
        subprocess.run(
            [self.install, "--no-defaults", f"--datadir={data}", *self._user(), "--skip-test-db",
             "--auth-root-authentication-method=normal", "--skip-name-resolve"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.process = subprocess.Popen(
            [self.server, "--no-defaults", f"--datadir={data}", f"--socket={self.socket}", f"--port={self.port}",
             "--bind-address=127.0.0.1", *self._user(), f"--log-error={self.root / 'error.log'}",
             f"--pid-file={self.root / 'mysqld.pid'}", "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
             "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--max-connections=200",
             "--skip-log-bin", "--character-set-server=utf8mb4"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.admin().close()
                return
            except Exception:  # noqa: BLE001 - still starting
                if self.process.poll() is not None:
                    log = (self.root / "error.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"mariadbd exited: {log}") from None
                time.sleep(0.2)
        raise RuntimeError("mariadbd did not start within 60s")

    def admin(self):
        import pymysql

        return pymysql.connect(unix_socket=self.socket, user="root", password="", autocommit=True)

    def new_database(self):
        """A fresh database and a user who may do anything in it (and create scratch databases)."""
        from toolkit.adapters.postgres.connection import DatabaseTarget

        name = f"t_{uuid.uuid4().hex[:12]}"
        password = f"pw-{uuid.uuid4().hex}"
        conn = self.admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}`")
                cur.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'")
                cur.execute(f"GRANT ALL ON `{name}`.* TO '{name}'@'%'")
                cur.execute(f"GRANT ALL ON `{name}\\_drift\\_%`.* TO '{name}'@'%'")
        finally:
            conn.close()
        return DatabaseTarget("127.0.0.1", self.port, name, name, password, engine="mysql")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


MYSQL_STACK = """
variable "environment" { type = string }
variable "db_host" { type = string }
variable "db_port" { type = number }
variable "db_name" { type = string }
variable "db_username" { type = string }
variable "db_password_file" { type = string }

resource "terraform_data" "db" {
  input = var.db_name
}

output "database" {
  value = {
    engine              = "mysql"
    host                = var.db_host
    port                = var.db_port
    name                = var.db_name
    username            = var.db_username
    password_secret_arn = null
    password_file       = var.db_password_file
  }
}
"""


def write_mysql_project(root: Path, target, *, state_dir: Path, migrations: dict[str, str] | None = None) -> Path:
    """A provider-free stack whose `database` output is the MySQL `target`; environment `dev` (local
    backend), its migrations in sql/."""
    import json

    (root / "stack").mkdir(parents=True)
    (root / "stack" / "main.tf").write_text(MYSQL_STACK)
    (root / "sql").mkdir()
    for name, text in (migrations or {}).items():
        (root / "sql" / name).write_text(text)
    (root / "tfvars").mkdir()
    password_file = root / "db-password"
    password_file.write_text(target.password)
    values = {
        "db_host": target.host,
        "db_port": target.port,
        "db_name": target.name,
        "db_username": target.username,
        "db_password_file": str(password_file),
    }
    (root / "tfvars" / "dev.tfvars.json").write_text(json.dumps(values))
    (root / "toolkit.toml").write_text(
        f'stacks = ["infra"]\n\n[project]\nname = "mysqldemo"\nstate_dir = "{state_dir}"\n\n'
        '[terraform]\nengine = "embedded"\n\n'
        '[environments.dev]\nstacks = { infra = "stack" }\nbackend = { type = "local" }\n'
        'var_files = ["dev.tfvars.json"]\ndatabase = "external"\ncreate_workspace = true\n\n[migrations]\nengine = "mysql"\n'
    )
    return root
