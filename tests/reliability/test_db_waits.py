"""Every wait toolkit makes on the database is bounded and interruptible: with the history table locked
by another session, `db migrate` gives up after `[migrations].lock_timeout` naming the lock, and with no
timeout at all, Ctrl-C cancels the waiting statement on the server (PostgreSQL's cancel request) and
exits 130. Real embedded PostgreSQL; a generous timeout only fails on a hang."""

from __future__ import annotations

import json
import signal
import time

import psycopg2
import pytest

from tests.running import invoke, run_cli

pytestmark = pytest.mark.slow


def _locker(project):
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


def _set_lock_timeout(project, value: str) -> None:
    config = project / "toolkit.toml"
    config.write_text(config.read_text() + f'\n[migrations]\nlock_timeout = "{value}"\n')


def _waiting(conn) -> int:
    with conn.cursor() as cur:
        # pg_locks, unlike pg_stat_activity, shows another role's sessions
        cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'flyway_schema_history'::regclass")
        return cur.fetchone()[0]


def _add_migration(project) -> None:
    (project / "sql" / "V900__later.sql").write_text("CREATE TABLE later (id int);\n")


def test_a_locked_history_table_times_out_then_ctrl_c_cancels_a_wait_without_end(local_project, record_figure):
    up = invoke(local_project, "env", "up", "local")
    assert up.exit_code == 0, up.output
    _add_migration(local_project)
    locker = _locker(local_project)
    try:
        with locker.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE flyway_schema_history IN ACCESS EXCLUSIVE MODE")
        config = (local_project / "toolkit.toml").read_text()
        _set_lock_timeout(local_project, "1s")
        proc = run_cli(local_project, "db", "migrate", "local")
        output = proc.communicate(timeout=120)[0]
        assert proc.returncode not in (0, 70) and "lock timeout" in output, output
        assert "Traceback" not in output

        (local_project / "toolkit.toml").write_text(config)
        _set_lock_timeout(local_project, "0")  # PostgreSQL's "wait for ever"
        proc = run_cli(local_project, "db", "migrate", "local")
        deadline = time.monotonic() + 120
        while _waiting(locker) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if _waiting(locker) != 1:
            proc.kill()
            raise AssertionError(f"db migrate never waited on the lock:\n{proc.communicate()[0]}")
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
        assert proc.returncode == 130, output
        assert "interrupted" in output and "Traceback" not in output
        assert _waiting(locker) == 0  # the server stopped the statement: nothing of toolkit's is left waiting
    finally:
        locker.close()
    # the lock gone, it completes; a COPY with inline data still runs with the wait callback installed
    (local_project / "sql" / "V901__copy.sql").write_text(
        "CREATE TABLE copied (id int);\nCOPY copied FROM STDIN;\n1\n2\n\\.\n"
    )
    done = invoke(local_project, "db", "migrate", "local")
    assert done.exit_code == 0, done.output
    import psycopg2.extensions

    assert psycopg2.extensions.get_wait_callback() is not None
    with _locker(local_project) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM copied")
        assert cur.fetchone()[0] == 2
    # a migration waiting on a lock another session holds: told so, not told to fix the file
    (local_project / "toolkit.toml").write_text(config)
    _set_lock_timeout(local_project, "1s")
    (local_project / "sql" / "V902__insert.sql").write_text("INSERT INTO later VALUES (1);\n")
    holder = _locker(local_project)
    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE later IN ACCESS EXCLUSIVE MODE")
        blocked = invoke(local_project, "db", "migrate", "local")
        assert blocked.exit_code == 4, blocked.output
        assert "another session held a lock the migration needed for longer than lock_timeout" in blocked.output
        assert "fix the migration" not in blocked.output
    finally:
        holder.close()
    record_figure(
        "database waits", "locked history table: gave up after lock_timeout 1s; unbounded wait: SIGINT -> cancel, 130"
    )
