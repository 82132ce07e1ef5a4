"""A `toolkit:transaction=false` file stopped half-way, by a failing statement or by SIGKILL while a
statement runs: `db status` shows it as "failed (partial)", never "pending"; the failing run's hint
says which statements stayed applied and what to do; `db repair` then has a row to clear. Real
embedded PostgreSQL, through the CLI."""

from __future__ import annotations

import json
import signal
import time

import psycopg2
import pytest

from tests.running import invoke, run_cli

pytestmark = pytest.mark.slow

FAILING = (
    "-- toolkit:transaction=false\n"
    "CREATE TABLE part_a (id int);\n"
    "CREATE TABLE part_b (id int);\n"
    "CREATE TABLE part_a (id int);\n"
    "CREATE TABLE part_c (id int);\n"
)
KILLED = "-- toolkit:transaction=false\nCREATE TABLE kill_a (id int);\nSELECT pg_sleep(120);\nCREATE TABLE kill_b (id int);\n"


def _connect(project):
    values = json.loads((project / "tfvars" / "local.tfvars.json").read_text())
    password = (project / values["db_password_file"]).read_text().strip()
    conn = psycopg2.connect(
        host="127.0.0.1",
        port=values["db_port"],
        dbname=values["db_name"],
        user=values["db_username"],
        password=password,
    )
    conn.autocommit = True
    return conn


def _exists(conn, table: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        return cur.fetchone()[0]


def _state_of(status_output: str, script: str) -> str:
    line = next(line for line in status_output.splitlines() if line.rstrip().endswith(script))
    return line.split(None, 1)[1].rsplit(script, 1)[0].strip()


def test_a_half_applied_file_is_failed_partial_with_what_ran(local_project, record_figure):
    up = invoke(local_project, "env", "up", "local")
    assert up.exit_code == 0, up.output
    conn = _connect(local_project)
    try:
        (local_project / "sql" / "V901__partial.sql").write_text(FAILING)
        failed = invoke(local_project, "db", "migrate", "local")
        assert failed.exit_code != 0, failed.output
        assert "V901__partial.sql:4:" in failed.output and 'relation "part_a" already exists' in failed.output
        assert "2 of its 4 statement(s) ran and stayed applied (starting on line(s) 2, 3)" in failed.output
        assert "its history row says failed" in failed.output and "toolkit db repair local" in failed.output
        assert _exists(conn, "part_b") and not _exists(conn, "part_c")
        status = invoke(local_project, "db", "status", "local")
        assert _state_of(status.output, "V901__partial.sql") == "failed (partial)", status.output

        # undone by hand and the file fixed, as the hint says; then repair clears the row and the file runs
        with conn.cursor() as cur:
            cur.execute("DROP TABLE part_a, part_b")
        (local_project / "sql" / "V901__partial.sql").write_text(
            FAILING.replace("CREATE TABLE part_a (id int);\nCREATE TABLE part_c", "CREATE TABLE part_c")
        )
        repaired = invoke(local_project, "db", "repair", "local")
        assert "removed failed row: V901__partial.sql" in repaired.output, repaired.output
        assert invoke(local_project, "db", "migrate", "local").exit_code == 0
        assert _exists(conn, "part_c")

        (local_project / "sql" / "V902__killed.sql").write_text(KILLED)
        proc = run_cli(local_project, "db", "migrate", "local")
        deadline = time.monotonic() + 120
        while not _exists(conn, "kill_a") and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _exists(conn, "kill_a"), proc.communicate(timeout=30)[0]
        time.sleep(0.5)  # inside pg_sleep
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        status = invoke(local_project, "db", "status", "local")
        assert _state_of(status.output, "V902__killed.sql") == "failed (partial)", status.output
        assert "1 pending" not in status.output and "V902__killed.sql: version 902 failed" in status.output
        env_status = invoke(local_project, "env", "status", "local")
        assert "V902__killed.sql: version 902 failed" in env_status.output, env_status.output
        assert "pending   V902__killed.sql" not in env_status.output, env_status.output
        again = invoke(local_project, "db", "migrate", "local")
        assert again.exit_code != 0 and "toolkit db repair local" in again.output, again.output
        assert not _exists(conn, "kill_b")  # refused: nothing of the file ran a second time
        repaired = invoke(local_project, "db", "repair", "local")
        assert "removed failed row: V902__killed.sql" in repaired.output, repaired.output
    finally:
        conn.close()
    record_figure(
        "half-applied",
        "a transaction=false file stopped by a failing statement and by SIGKILL: failed (partial), never pending",
    )
