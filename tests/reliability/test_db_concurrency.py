"""Migrations under real concurrency and real crashes: 8 `toolkit db migrate` processes on one database,
and a run killed with SIGKILL in the middle of a migration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psycopg2
import pytest
from typer.testing import CliRunner

from tests.conftest import free_port, write_local_project
from toolkit.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture
def up_project(tmp_path):
    project = write_local_project(tmp_path / "project", port=free_port())
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "up", "local"])
    assert result.exit_code == 0, result.output
    yield project
    CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "down", "local"])


def connect(project):
    password = (project / ".toolkit/local/postgres/password").read_text().strip()
    port = json.loads((project / "tfvars/local.tfvars.json").read_text())["db_port"]
    conn = psycopg2.connect(host="127.0.0.1", port=port, dbname="demo", user="demo_app", password=password)
    conn.autocommit = True
    return conn


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall() if cur.description else None


def toolkit(project, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CI": "true"},
    )


def test_eight_concurrent_migrate_runs_apply_each_migration_once(up_project):
    sql = up_project / "sql"
    with connect(up_project) as conn:
        query(conn, "CREATE TABLE IF NOT EXISTS applied_log (version int)")  # counts every application
    conn.close()
    for n in range(6, 14):
        (sql / f"V{n}__step_{n}.sql").write_text(
            f"CREATE TABLE step_{n} (id int);\nINSERT INTO applied_log VALUES ({n});\nSELECT pg_sleep(0.1);\n"
        )
    runs = [toolkit(up_project, "db", "migrate", "local") for _ in range(8)]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 8, "\n---\n".join(outputs)
    applied_now = sum(int(out.split(" applied now")[0].split()[-1]) for out in outputs if " applied now" in out)
    assert applied_now == 8  # the runs shared the work: each migration was applied by exactly one
    conn = connect(up_project)
    try:
        assert query(conn, "SELECT version, count(*) FROM applied_log GROUP BY 1 ORDER BY 1") == [
            (n, 1) for n in range(6, 14)
        ]
        assert query(conn, "SELECT count(*), count(DISTINCT version) FROM flyway_schema_history") == [(13, 13)]
        assert query(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]
    finally:
        conn.close()


def test_sigkill_mid_migration_leaves_no_partial_change_and_no_stuck_lock(up_project):
    migration = up_project / "sql" / "V6__slow.sql"
    migration.write_text("CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELECT pg_sleep(120);\n")
    run = toolkit(up_project, "db", "migrate", "local")
    conn = connect(up_project)
    try:
        deadline = time.monotonic() + 60
        while not query(conn, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'"):
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "the migration never reached its sleep"
            time.sleep(0.1)
        assert query(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(1,)]
        run.kill()  # SIGKILL: no cleanup code of ours runs
        run.wait(timeout=10)
        deadline = time.monotonic() + 20
        while query(conn, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"):
            assert time.monotonic() < deadline, "the advisory lock outlived the killed run"
            time.sleep(0.2)
        assert query(conn, "SELECT to_regclass('half_done') IS NULL") == [(True,)]
        assert query(conn, "SELECT count(*) FROM flyway_schema_history WHERE version = '6'") == [(0,)]
    finally:
        conn.close()
    migration.write_text("CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\n")
    again = toolkit(up_project, "db", "migrate", "local")
    output = again.communicate(timeout=120)[0]
    assert again.returncode == 0, output
    assert "1 applied now, 5 before" in output
