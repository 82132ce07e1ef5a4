"""Migration scenarios: N small migrations (DDL + DML each) applied to an empty database by toolkit and
by its peers, the no-op run with everything applied, and psql running the same SQL as the floor.

Every tool gets the same SQL, its own database on one PostgreSQL 18 server, and the same transactional
work: one transaction per migration (the floor too, so only the bookkeeping differs).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Contender, Figure, interleaved, run_once

ROLE = "bench"
NO_CACHE = "toolkit --no-cache"
VERIFIED = (
    "the verdict of the untimed run before (deploy/noop_verdict.py): every file's identity and a digest of "
    "the whole history compared with it"
)
PASSWORD = "bench-password-not-a-secret"


def migration_sql(n: int) -> str:
    return (
        f"CREATE TABLE bench_item_{n} (\n"
        "    id bigint PRIMARY KEY,\n"
        "    label text NOT NULL,\n"
        "    created_at timestamptz NOT NULL DEFAULT now()\n"
        ");\n"
        f"INSERT INTO bench_item_{n} (id, label) VALUES (1, 'first of {n}'), (2, 'second of {n}');\n"
    )


def memory_folder(room: int = 4 << 30) -> Path | None:
    """A new folder in /dev/shm for the server's data, when that is a memory filesystem with `room` bytes
    free (10,000 migrations take about 0.3 GB per database); None otherwise (the data stays on disk)."""
    shm = Path("/dev/shm")
    try:
        usage = shutil.disk_usage(shm)
        if usage.free < room or not os.access(shm, os.W_OK):
            return None
        folder = Path(tempfile.mkdtemp(prefix="toolkit-bench-db-", dir=shm))
    except OSError:
        return None
    folder.chmod(0o755)  # as root, PostgreSQL runs as an unprivileged user who must reach its data here
    return folder


@dataclass
class Server:
    """The benchmark's PostgreSQL: one embedded server, one login role, a database per tool."""

    root: Path
    port: int
    fsync: bool

    def start(self) -> None:
        from toolkit.adapters.postgres.server import EmbeddedServer, provision

        self.server = EmbeddedServer(data_dir=self.root / "data", port=self.port, fast=not self.fsync)
        self.server.ensure_running()
        provision(self.server, database="bench_setup", username=ROLE, password=PASSWORD)

    def stop(self) -> None:
        self.server.remove()

    def reset(self, database: str) -> None:
        """Drop and recreate an empty database owned by the bench role (untimed), then checkpoint: dropping
        a database of thousands of tables leaves the server writing and unlinking in the background, which
        would otherwise slow whichever tool is timed next (seen: the same run 2.7 s or 6.0 s)."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(**self.server.superuser_dsn())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(ROLE)))
            cur.execute("CHECKPOINT")
        conn.close()

    def url(self, database: str, scheme: str = "postgresql") -> str:
        return f"{scheme}://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"


# One writer per tool: the same migrations in the layout each tool reads.


def write_toolkit(folder: Path, count: int, server: Server) -> None:
    """A toolkit project whose environment `bench` points at the benchmark's server."""
    sql = folder / "sql"
    sql.mkdir(parents=True)
    for n in range(1, count + 1):
        (sql / f"V{n}__item_{n}.sql").write_text(migration_sql(n), encoding="utf-8")
    stack = folder / "terraform" / "infra"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text(_TOOLKIT_STACK, encoding="utf-8")
    (folder / "tfvars").mkdir()
    (folder / "tfvars" / "bench.tfvars.json").write_text(
        json.dumps({"db_port": server.port, "db_name": "bench_toolkit", "db_username": ROLE}), encoding="utf-8"
    )
    password = folder / "password"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    password.chmod(0o600)
    (folder / "toolkit.toml").write_text(_TOOLKIT_TOML, encoding="utf-8")


_TOOLKIT_STACK = """\
variable "environment" { type = string }
variable "db_port" { type = number }
variable "db_name" { type = string }
variable "db_username" { type = string }

output "database" {
  value = {
    engine              = "postgres"
    host                = "127.0.0.1"
    port                = var.db_port
    name                = var.db_name
    username            = var.db_username
    password_secret_arn = null
    password_file       = "password"
  }
}
"""

_TOOLKIT_TOML = """\
stacks = ["infra"]

[project]
name = "bench"

[environments.bench]
stacks = { infra = "terraform/infra" }
backend = { type = "local" }
var_files = ["bench.tfvars.json"]
create_workspace = true
"""


def write_dbmate(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(1, count + 1):
        text = f"-- migrate:up\n{migration_sql(n)}\n-- migrate:down\nDROP TABLE bench_item_{n};\n"
        (folder / f"{n:014d}_item_{n}.sql").write_text(text, encoding="utf-8")


def write_yoyo(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(1, count + 1):
        (folder / f"{n:05d}_item_{n}.sql").write_text(migration_sql(n), encoding="utf-8")


def write_sqitch(folder: Path, count: int) -> None:
    """Sqitch's convention: each deploy script carries its own BEGIN/COMMIT."""
    for part in ("deploy", "revert"):
        (folder / part).mkdir(parents=True)
    (folder / "sqitch.conf").write_text("[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n", encoding="utf-8")
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    for n in range(1, count + 1):
        plan.append(f"item_{n} 2026-01-01T00:00:00Z Bench <bench@example.com> # item {n}")
        (folder / "deploy" / f"item_{n}.sql").write_text(f"BEGIN;\n{migration_sql(n)}COMMIT;\n", encoding="utf-8")
        (folder / "revert" / f"item_{n}.sql").write_text(f"DROP TABLE bench_item_{n};\n", encoding="utf-8")
    (folder / "sqitch.plan").write_text("\n".join(plan) + "\n", encoding="utf-8")


def write_floor(path: Path, count: int) -> None:
    """All migrations in one file for one psql session, each in its own transaction."""
    with path.open("w", encoding="utf-8") as handle:
        for n in range(1, count + 1):
            handle.write(f"BEGIN;\n{migration_sql(n)}COMMIT;\n")


@dataclass(frozen=True)
class Tool:
    """How one tool applies a folder of migrations to its database."""

    name: str
    database: str
    write: Callable[[Path, int], None]
    argv: Callable[[Path], list[str]]
    env: dict[str, str]
    checks_contents: bool  # whether its no-op run re-reads and verifies every applied file


def tools(peers: dict, server: Server, toolkit_bin: str) -> tuple[list[Tool], list[tuple[str, str]]]:
    """The tools to run here, and (name, reason) for the peers that are not available."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_URL"))}
    psql = peers["psql"].executable
    found: list[Tool] = [
        Tool(
            "toolkit",
            "bench_toolkit",
            lambda folder, count: write_toolkit(folder, count, server),
            lambda folder: [toolkit_bin, "-q", "-C", str(folder), "db", "migrate", "bench"],
            {**base_env, "CI": "true"},
            True,
        )
    ]
    missing: list[tuple[str, str]] = []
    if peers["dbmate"].executable:
        found.append(
            Tool(
                "dbmate",
                "bench_dbmate",
                write_dbmate,
                lambda folder: [peers["dbmate"].executable, "--migrations-dir", str(folder), "--no-dump-schema", "up"],
                {**base_env, "DATABASE_URL": server.url("bench_dbmate", "postgres") + "?sslmode=disable"},
                False,
            )
        )
    else:
        missing.append(("dbmate", peers["dbmate"].missing))
    binary = peers.get("dbmate (Go binary)")
    if binary is not None and binary.executable:
        # The same dbmate without its npm launcher (node starting, then exec'ing this binary).
        found.append(
            Tool(
                "dbmate (Go binary)",
                "bench_dbmate_go",
                write_dbmate,
                lambda folder: [binary.executable, "--migrations-dir", str(folder), "--no-dump-schema", "up"],
                {**base_env, "DATABASE_URL": server.url("bench_dbmate_go", "postgres") + "?sslmode=disable"},
                False,
            )
        )
    if peers["yoyo"].executable:
        found.append(
            Tool(
                "yoyo",
                "bench_yoyo",
                write_yoyo,
                lambda folder: [
                    peers["yoyo"].executable,
                    "apply",
                    "--batch",
                    "--no-config-file",
                    "--database",
                    server.url("bench_yoyo"),
                    str(folder),
                ],
                base_env,
                False,
            )
        )
    else:
        missing.append(("yoyo", peers["yoyo"].missing))
    if peers["sqitch"].executable:
        found.append(
            Tool(
                "sqitch",
                "bench_sqitch",
                write_sqitch,
                lambda folder: [
                    peers["sqitch"].executable,
                    "--chdir",
                    str(folder),
                    "deploy",
                    "--db-client",
                    psql,
                    "--no-verify",
                    server.url("bench_sqitch", "db:pg"),
                ],
                {**base_env, "SQITCH_USER_CONFIG": os.devnull, "SQITCH_SYSTEM_CONFIG": os.devnull},
                False,
            )
        )
    else:
        missing.append(("sqitch", peers["sqitch"].missing))
    found.append(
        Tool(
            "psql (floor)",
            "bench_floor",
            lambda folder, count: (folder.mkdir(parents=True), write_floor(folder / "all.sql", count)),
            lambda folder: [
                psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(server.port),
                "-U",
                ROLE,
                "-d",
                "bench_floor",
                "-f",
                str(folder / "all.sql"),
            ],
            {**base_env, "PGPASSWORD": PASSWORD},
            False,
        )
    )
    return found, missing


def _no_cache(argv: list[str]) -> list[str]:
    """toolkit's command line with the global `--no-cache` after the program."""
    return [argv[0], "--no-cache", *argv[1:]]


def prepare_toolkit_project(folder: Path, toolkit_bin: str, env: dict[str, str]) -> None:
    """Apply the bench stack once, so `db migrate` finds its outputs (as it would after `env up`)."""
    import subprocess

    sql = folder / "sql"
    parked = folder / "sql.parked"
    sql.rename(parked)
    sql.mkdir()
    try:
        subprocess.run(
            [toolkit_bin, "-q", "-C", str(folder), "env", "up", "bench"], env=env, check=True, capture_output=True
        )
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stdout.decode() + exc.stderr.decode())
        raise
    finally:
        sql.rmdir()
        parked.rename(sql)


@dataclass
class MigrationFigures:
    apply: dict[int, list[Figure]]  # migrations count -> one figure per tool
    noop: list[Figure]
    noop_count: int
    missing: list[tuple[str, str]]


def far_behind(
    found: list[Tool], figures: list[Figure], count: int, behind: float
) -> tuple[list[Tool], list[tuple[str, str]]]:
    """The tools to run at the next size, and why the others are not: a peer that took more than `behind`
    times toolkit's median at `count` migrations (it grows at least linearly) is not run at larger sizes,
    so one slow peer does not add half an hour; the floor and toolkit always run."""
    seconds = {f.tool: f.seconds for f in figures}
    mine = seconds.get("toolkit")
    if not mine or behind <= 0:
        return found, []
    keep, dropped = [], []
    for tool in found:
        ratio = seconds.get(tool.name, 0.0) / mine
        if tool.name in ("toolkit", "psql (floor)") or ratio <= behind:
            keep.append(tool)
        else:
            why = f"not run above {count:,} migrations: at {count:,} it took {ratio:.1f}× toolkit's time"
            why += f" (--behind {behind:g})"
            dropped.append((tool.name, why))
    return keep, dropped


def run(
    work: Path,
    server: Server,
    peers: dict,
    toolkit_bin: str,
    sizes: list[int],
    rounds: int,
    slow_after: float,
    behind: float = 0.0,
) -> MigrationFigures:
    """Per size, smallest first, every tool applies the same migrations to its emptied database, in
    interleaved rounds; then, with the largest size applied, the no-op run of every tool still running
    (see far_behind), interleaved too."""
    found, missing = tools(peers, server, toolkit_bin)
    figures = MigrationFigures(apply={}, noop=[], noop_count=max(sizes), missing=missing)
    for count in sorted(sizes):
        folders = {}
        for tool in found:
            folder = folders[tool.name] = work / f"{tool.name.split()[0]}-{tool.database}-{count}"
            tool.write(folder, count)
            if tool.name == "toolkit":
                server.reset(tool.database)
                prepare_toolkit_project(folder, toolkit_bin, tool.env)
        print(f"  {count} migrations: {', '.join(t.name for t in found)} in turn", file=sys.stderr, flush=True)
        contenders = [
            Contender(
                tool.name,
                lambda t=tool, f=folders: t.argv(f[t.name]),
                env=tool.env,
                before=lambda database=tool.database: server.reset(database),
            )
            for tool in found
        ]
        figures.apply[count] = interleaved(contenders, rounds, slow_after=slow_after)
        if count < figures.noop_count:
            found, dropped = far_behind(found, figures.apply[count], count, behind)
            figures.missing.extend(dropped)
        if count == figures.noop_count:
            # Every database now holds every migration its tool applied: time the no-op runs.
            print(f"  no-op with {count} applied", file=sys.stderr, flush=True)
            noop = [t for t in found if t.name != "psql (floor)"]
            for tool in noop:  # one untimed run each: toolkit's first no-op writes its verdict
                run_once(tool.argv(folders[tool.name]), env=tool.env)
            contenders = [
                Contender(
                    t.name,
                    lambda t=t, f=folders: t.argv(f[t.name]),
                    env=t.env,
                    note=VERIFIED if t.checks_contents else "no content check",
                )
                for t in noop
            ]
            toolkit = next((t for t in noop if t.name == "toolkit"), None)
            if toolkit is not None:
                contenders.insert(
                    1,
                    Contender(
                        NO_CACHE,
                        lambda t=toolkit, f=folders: _no_cache(t.argv(f[t.name])),
                        env=toolkit.env,
                        note="every file read and its checksum compared with every history row",
                    ),
                )
            figures.noop = interleaved(contenders, rounds)
        else:
            for folder in folders.values():
                shutil.rmtree(folder)
    return figures
