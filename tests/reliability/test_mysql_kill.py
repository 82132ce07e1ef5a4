"""A `db migrate` on MySQL killed with SIGKILL while it holds the GET_LOCK: the server drops the lock with the
connection, the file's row changes are rolled back, and the next run applies it without help."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.mariadb import write_mysql_project
from tests.projects import new_state_dir, remove_state_dir
from tests.running import invoke
from toolkit.adapters.mysql.connection import connect

pytestmark = pytest.mark.slow


def query(target, sql: str, args=None):
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def test_sigkill_while_holding_the_lock(tmp_path, mysql_database):
    state_dir = new_state_dir()
    try:
        project = write_mysql_project(
            tmp_path / "p", mysql_database, state_dir=state_dir, migrations={"V1__t.sql": "CREATE TABLE t (n INT);\n"}
        )
        assert invoke(project, "env", "up", "dev").exit_code == 0
        (project / "sql" / "V2__slow.sql").write_text(
            "INSERT INTO t VALUES (1);\nDO SLEEP(30);\nINSERT INTO t VALUES (2);\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", "db", "migrate", "dev"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "CI": "true"},
        )
        name = f"toolkit:{mysql_database.name}.flyway_schema_history"
        deadline = time.monotonic() + 60
        while query(mysql_database, "SELECT IS_USED_LOCK(%s)", (name,)) == [(None,)]:
            assert time.monotonic() < deadline, "the run never took the lock"
            time.sleep(0.1)
        time.sleep(1.5)  # inside V2's sleep, its first row inserted and not committed
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while query(mysql_database, "SELECT IS_USED_LOCK(%s)", (name,)) != [(None,)]:
            assert time.monotonic() < deadline, "the lock outlived the killed run's connection"
            time.sleep(0.2)
        assert query(mysql_database, "SELECT COUNT(*) FROM t") == [(0,)]  # rolled back with the connection
        (project / "sql" / "V2__slow.sql").write_text("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n")
        again = invoke(project, "db", "migrate", "dev")
        assert again.exit_code == 0, again.output
        assert query(mysql_database, "SELECT n FROM t ORDER BY n") == [(1,), (2,)]
    finally:
        remove_state_dir(state_dir)
