"""The MySQL scenario: N small migrations (DDL + DML each) applied to an empty MariaDB database by toolkit,
by dbmate (the peer that speaks MySQL) and by the mariadb client running the same SQL as the floor.

The server is the tests' own MariaDB 10.11 (tests/mariadb.py: its own datadir and port, started here),
one database per tool, reset before each run (untimed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.measure import Contender, interleaved
from bench.migrations import Tool
from bench.report import Scenario

USER = "bench"
PASSWORD = "bench-password-not-a-secret"


def migration_sql(n: int) -> str:
    return (
        f"CREATE TABLE bench_item_{n} (\n"
        "    id BIGINT PRIMARY KEY,\n"
        "    label VARCHAR(100) NOT NULL,\n"
        "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
        ") ENGINE=InnoDB;\n"
        f"INSERT INTO bench_item_{n} (id, label) VALUES (1, 'first of {n}'), (2, 'second of {n}');\n"
    )


_STACK = """\
variable "environment" { type = string }
variable "db_port" { type = number }

output "database" {
  value = {
    engine              = "mysql"
    host                = "127.0.0.1"
    port                = var.db_port
    name                = "bench_toolkit"
    username            = "bench"
    password_secret_arn = null
    password_file       = "password"
  }
}
"""

# Each file both creates a table and fills it, which the MySQL lint flags (mixed-ddl-dml): a warning here.
_TOML = """\
stacks = ["infra"]

[project]
name = "bench"

[environments.bench]
stacks = { infra = "terraform/infra" }
backend = { type = "local" }
var_files = ["bench.tfvars.json"]
database = "external"
create_workspace = true

[migrations]
engine = "mysql"

[migrations.lint]
severity = { mixed-ddl-dml = "warning" }
"""


def write_toolkit(folder: Path, count: int, port: int) -> None:
    (folder / "sql").mkdir(parents=True)
    for n in range(1, count + 1):
        (folder / "sql" / f"V{n}__item_{n}.sql").write_text(migration_sql(n), encoding="utf-8")
    (folder / "terraform" / "infra").mkdir(parents=True)
    (folder / "terraform" / "infra" / "main.tf").write_text(_STACK, encoding="utf-8")
    (folder / "tfvars").mkdir()
    (folder / "tfvars" / "bench.tfvars.json").write_text(json.dumps({"db_port": port}), encoding="utf-8")
    (folder / "password").write_text(PASSWORD + "\n", encoding="utf-8")
    (folder / "password").chmod(0o600)
    (folder / "toolkit.toml").write_text(_TOML, encoding="utf-8")


def write_dbmate(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(1, count + 1):
        text = f"-- migrate:up\n{migration_sql(n)}\n-- migrate:down\nDROP TABLE bench_item_{n};\n"
        (folder / f"{n:014d}_item_{n}.sql").write_text(text, encoding="utf-8")


def write_floor(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    with (folder / "all.sql").open("w", encoding="utf-8") as handle:
        for n in range(1, count + 1):
            handle.write(f"START TRANSACTION;\n{migration_sql(n)}COMMIT;\n")


def run(work: Path, peers: dict, toolkit_bin: str, count: int, rounds: int, slow_after: float, in_memory: bool):
    """(the scenario, [(peer, why it is missing)]); `in_memory`: the datadir in /dev/shm where it has room."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.migrations import memory_folder
    from tests.mariadb import MariaDBServer, binaries

    if binaries() is None:
        return None, [("MariaDB", "mariadbd is not installed (`.ci/install-mariadb`)")]
    memory = memory_folder() if in_memory else None
    server = MariaDBServer(memory)
    server.start()
    try:
        admin = server.admin()

        def reset(database: str) -> None:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
                cur.execute(f"CREATE DATABASE `{database}`")

        with admin.cursor() as cur:
            cur.execute(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
            cur.execute(f"GRANT ALL ON *.* TO '{USER}'@'%'")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL", "DATABASE_URL"))}
        tools = [
            Tool(
                "toolkit",
                "bench_toolkit",
                lambda folder, n: write_toolkit(folder, n, server.port),
                lambda folder: [toolkit_bin, "-q", "-C", str(folder), "db", "migrate", "bench"],
                {**base_env, "CI": "true"},
                True,
            )
        ]
        missing = []
        if peers["dbmate"].executable:
            url = f"mysql://{USER}:{PASSWORD}@127.0.0.1:{server.port}/bench_dbmate"
            tools.append(
                Tool(
                    "dbmate",
                    "bench_dbmate",
                    write_dbmate,
                    lambda folder: [
                        peers["dbmate"].executable,
                        "--migrations-dir",
                        str(folder),
                        "--no-dump-schema",
                        "up",
                    ],
                    {**base_env, "DATABASE_URL": url},
                    False,
                )
            )
        else:
            missing.append(("dbmate", peers["dbmate"].missing))
        binary = peers.get("dbmate (Go binary)")
        if binary is not None and binary.executable and peers["dbmate"].executable:
            url = f"mysql://{USER}:{PASSWORD}@127.0.0.1:{server.port}/bench_dbmate_go"
            tools.append(
                Tool(
                    "dbmate (Go binary)",
                    "bench_dbmate_go",
                    write_dbmate,
                    lambda folder: [binary.executable, "--migrations-dir", str(folder), "--no-dump-schema", "up"],
                    {**base_env, "DATABASE_URL": url},
                    False,
                )
            )
        client = shutil.which("mariadb") or shutil.which("mysql")
        if client:
            tools.append(
                Tool(
                    "mariadb client (floor)",
                    "bench_floor",
                    write_floor,
                    lambda folder: [
                        client,
                        "-h",
                        "127.0.0.1",
                        "-P",
                        str(server.port),
                        "-u",
                        USER,
                        f"-p{PASSWORD}",
                        "bench_floor",
                        "-e",
                        f"source {folder / 'all.sql'}",
                    ],  # fmt: skip
                    base_env,
                    False,
                )
            )
        folders = {}
        for tool in tools:
            folder = folders[tool.name] = work / f"mysql-{tool.database}-{count}"
            tool.write(folder, count)
            if tool.name == "toolkit":
                reset(tool.database)
                _prepare(folder, toolkit_bin, tool.env)
        print(f"  {count} MySQL migrations: {', '.join(t.name for t in tools)} in turn", file=sys.stderr, flush=True)
        contenders = [
            Contender(
                tool.name,
                lambda t=tool: t.argv(folders[t.name]),
                env=tool.env,
                before=lambda database=tool.database: reset(database),
            )
            for tool in tools
        ]
        figures = interleaved(contenders, rounds, slow_after=slow_after)
        admin.close()
    finally:
        server.stop()
        if memory is not None:
            shutil.rmtree(memory, ignore_errors=True)
    scenario = Scenario(
        f"mysql-apply-{count}", f"Apply {count:,} migrations to an empty MySQL (MariaDB 10.11) database", figures
    )
    scenario.notes.append(
        "Each migration creates a table and inserts two rows. toolkit runs each file with autocommit off, "
        "its history row committed with it (a DDL statement commits implicitly anyway), under GET_LOCK; "
        "dbmate runs each file in a transaction too; the floor is the mariadb client sourcing one file. "
        + ("The server's datadir is in /dev/shm (memory)." if memory else "The server's datadir is on disk.")
    )
    return scenario, missing


def _prepare(folder: Path, toolkit_bin: str, env: dict[str, str]) -> None:
    """Apply the bench stack once with no migrations, so `db migrate` finds its outputs."""
    parked = folder / "sql.parked"
    (folder / "sql").rename(parked)
    (folder / "sql").mkdir()
    try:
        subprocess.run(
            [toolkit_bin, "-q", "-C", str(folder), "env", "up", "bench"], env=env, check=True, capture_output=True
        )
    finally:
        (folder / "sql").rmdir()
        parked.rename(folder / "sql")
