"""Migrations under real concurrency and real crashes, repeated: 8 `toolkit db migrate` processes on one
database at once, and runs killed with SIGKILL at random moments."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from tests.projects import connect_local, free_port, new_state_dir, remove_state_dir, write_local_project
from toolkit.cli import app

pytestmark = pytest.mark.slow

CONCURRENCY_REPEATS = 20  # x 8 processes
KILL_REPEATS = 20
PROCESSES = 8


@pytest.fixture
def up_project(tmp_path):
    """The local environment, up; afterwards torn down, and its PostgreSQL stopped even when the test,
    the set-up or `env down` failed (a killed `db migrate` can leave anything behind)."""
    state_dir = new_state_dir()
    project = write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    try:
        result = CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "up", "local"])
        assert result.exit_code == 0, result.output
        yield project
        CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "down", "local"])
    finally:
        remove_state_dir(state_dir)


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


def applied_now(output: str) -> int:
    return int(output.split(" applied now")[0].split()[-1]) if " applied now" in output else 0


def test_eight_concurrent_migrate_runs_apply_each_migration_once_repeatedly(up_project, record_figure):
    """Each round adds 3 migrations and starts 8 runs at once: every migration is applied exactly once."""
    sql = up_project / "sql"
    conn = connect_local(up_project)
    query(conn, "CREATE TABLE applied_log (version int)")  # one row per application, whoever applied it
    runs = failures = duplicates = 0
    try:
        for round_ in range(CONCURRENCY_REPEATS):
            versions = [6 + 3 * round_ + i for i in range(3)]
            for n in versions:
                (sql / f"V{n}__step_{n}.sql").write_text(
                    f"CREATE TABLE step_{n} (id int);\nINSERT INTO applied_log VALUES ({n});\nSELECT pg_sleep(0.05);\n"
                )
            procs = [toolkit(up_project, "db", "migrate", "local") for _ in range(PROCESSES)]
            outputs = [proc.communicate(timeout=240)[0] for proc in procs]
            runs += len(procs)
            failures += sum(proc.returncode != 0 for proc in procs)
            counts = dict(
                query(conn, f"SELECT version, count(*) FROM applied_log WHERE version >= {versions[0]} GROUP BY 1")
            )
            duplicates += sum(counts.get(n, 0) - 1 for n in versions if counts.get(n, 0) > 1)
            assert [counts.get(n, 0) for n in versions] == [1, 1, 1], "\n---\n".join(outputs)
            assert [proc.returncode for proc in procs] == [0] * PROCESSES, "\n---\n".join(outputs)
            assert sum(applied_now(out) for out in outputs) == 3  # the runs shared the work
        last = 5 + 3 * CONCURRENCY_REPEATS
        assert query(conn, "SELECT count(*), count(DISTINCT version) FROM flyway_schema_history") == [(last, last)]
        assert query(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]
    finally:
        conn.close()
        record_figure(
            "concurrency",
            f"{runs} runs of `db migrate` ({PROCESSES} at once x {runs // PROCESSES} rounds), "
            f"{duplicates} duplicates, {failures} failed runs",
        )


def migration_state(conn, versions: list[int]) -> dict[int, tuple[bool, int, int]]:
    """Per version: (table exists, rows in the log, successful history rows)."""
    state = {}
    for n in versions:
        table = query(conn, f"SELECT to_regclass('k_{n}') IS NOT NULL")[0][0]
        logged = query(conn, f"SELECT count(*) FROM kill_log WHERE version = {n}")[0][0]
        history = query(conn, f"SELECT count(*) FROM flyway_schema_history WHERE version = '{n}' AND success")[0][0]
        state[n] = (table, logged, history)
    return state


def test_sigkill_at_random_moments_leaves_each_migration_before_or_after(up_project, record_figure):
    """Each round adds 3 two-step migrations, kills `db migrate` with SIGKILL after a random delay, and
    checks every migration is wholly applied (table, both log rows, history row) or not at all; then the
    next run completes without help (no stuck lock, nothing to repair)."""
    sql = up_project / "sql"
    rng = random.Random(20261125)  # fixed seed: CI runs the same moments every time
    conn = connect_local(up_project)
    query(conn, "CREATE TABLE kill_log (version int)")
    kills = between = mid_run = 0
    try:
        for round_ in range(KILL_REPEATS):
            versions = [6 + 3 * round_ + i for i in range(3)]
            for n in versions:
                (sql / f"V{n}__kill_{n}.sql").write_text(
                    f"CREATE TABLE k_{n} (id int);\nINSERT INTO kill_log VALUES ({n});\n"
                    f"SELECT pg_sleep(0.3);\nINSERT INTO kill_log VALUES ({n});\n"
                )
            run = toolkit(up_project, "db", "migrate", "local")
            if round_ % 2:  # any moment of the run, start-up (reading outputs, connecting) included
                time.sleep(rng.uniform(0.2, 2.5))
            else:  # a moment once the first file is running: inside a migration or between two
                deadline = time.monotonic() + 60
                while not query(conn, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(0.3)%'"):
                    assert run.poll() is None and time.monotonic() < deadline, "the run never reached a migration"
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 1.0))
            run.kill()  # SIGKILL: no cleanup code of ours runs
            run.communicate(timeout=30)
            kills += 1
            state = migration_state(conn, versions)
            applied = [n for n, s in state.items() if s == (True, 2, 1)]
            untouched = [n for n, s in state.items() if s == (False, 0, 0)]
            between += len(versions) - len(applied) - len(untouched)
            assert len(applied) + len(untouched) == len(versions), f"round {round_}: half-applied {state}"
            mid_run += 0 < len(applied) < len(versions)

            again = toolkit(up_project, "db", "migrate", "local")
            output = again.communicate(timeout=120)[0]
            assert again.returncode == 0, output
            assert all(s == (True, 2, 1) for s in migration_state(conn, versions).values()), output
        assert query(conn, "SELECT count(*) FROM flyway_schema_history WHERE NOT success") == [(0,)]
    finally:
        conn.close()
        record_figure(
            "sigkill",
            f"{kills} `db migrate` runs killed with SIGKILL ({kills // 2} at any moment, {(kills + 1) // 2} once a "
            f"migration was running); {mid_run} stopped after some migrations and before others; "
            f"{between} migrations left half-applied; every next run completed",
        )
