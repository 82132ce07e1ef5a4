"""The MySQL engine through its whole command set, on a real MariaDB 10.11: env up, db status, migrate
(dry run too), validate, repair, baseline, lint and drift; 8 concurrent `db migrate` processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.mariadb import write_mysql_project
from tests.projects import new_state_dir, remove_state_dir
from tests.running import invoke
from toolkit.adapters.mysql.connection import connect

pytestmark = pytest.mark.slow

V1 = "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, amount INT NOT NULL) ENGINE=InnoDB;\n"


@pytest.fixture
def mysql_project(tmp_path, mysql_database):
    state_dir = new_state_dir()
    try:
        yield write_mysql_project(
            tmp_path / "project", mysql_database, state_dir=state_dir, migrations={"V1__orders.sql": V1}
        )
    finally:
        remove_state_dir(state_dir)


def query(target, sql: str, args=None):
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def test_whole_command_set(mysql_project, mysql_database):
    up = invoke(mysql_project, "env", "up", "dev")
    assert up.exit_code == 0, up.output
    assert query(mysql_database, "SELECT script, success FROM flyway_schema_history") == [("V1__orders.sql", 1)]
    (mysql_project / "sql" / "V2__note.sql").write_text(
        "ALTER TABLE orders ADD COLUMN note VARCHAR(20), ALGORITHM=INSTANT;\n"
    )
    dry = invoke(mysql_project, "db", "migrate", "dev", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "ALTER TABLE orders ADD COLUMN note VARCHAR(20), ALGORITHM=INSTANT;" in dry.stdout
    status = invoke(mysql_project, "db", "status", "dev", "--json")
    assert status.exit_code == 0, status.output
    states = {f["script"]: f["state"] for f in json.loads(status.stdout)["files"]}
    assert states == {"V1__orders.sql": "applied", "V2__note.sql": "pending"}
    assert invoke(mysql_project, "db", "migrate", "dev").exit_code == 0
    assert invoke(mysql_project, "db", "validate", "dev").exit_code == 0
    assert len(query(mysql_database, "SHOW COLUMNS FROM orders")) == 3
    assert mysql_database.password not in up.output + dry.output + status.output


def test_failing_ddl_is_recorded_as_failed_then_repaired(mysql_project, mysql_database):
    assert invoke(mysql_project, "env", "up", "dev").exit_code == 0
    broken = mysql_project / "sql" / "V2__broken.sql"
    broken.write_text("CREATE TABLE audit (id INT);\nALTER TABLE nowhere ADD COLUMN x INT, ALGORITHM=INSTANT;\n")
    failed = invoke(mysql_project, "db", "migrate", "dev")
    assert failed.exit_code == 4, failed.output
    assert "V2__broken.sql:2: migration 2 failed" in failed.output
    assert "statements that stayed applied (line 1)" in failed.output and "toolkit db repair dev" in failed.output
    status = invoke(mysql_project, "db", "status", "dev", "--json")
    assert {f["script"]: f["state"] for f in json.loads(status.stdout)["files"]}["V2__broken.sql"] == "failed"
    refused = invoke(mysql_project, "db", "migrate", "dev")
    assert refused.exit_code == 1 and "recorded as failed" in refused.output
    broken.write_text("CREATE TABLE audit (id INT);\n")
    query(mysql_database, "DROP TABLE audit")
    repaired = invoke(mysql_project, "db", "repair", "dev")
    assert repaired.exit_code == 0, repaired.output
    again = invoke(mysql_project, "db", "migrate", "dev")
    assert again.exit_code == 0, again.output
    assert query(mysql_database, "SELECT script, success FROM flyway_schema_history ORDER BY installed_rank") == [
        ("V1__orders.sql", 1),
        ("V2__broken.sql", 1),
    ]


def test_lint_flags_mysql_rules_before_anything_runs(mysql_project, mysql_database):
    sql = mysql_project / "sql"
    (sql / "V2__mixed.sql").write_text(
        "ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT;\nUPDATE orders SET c = 1;\n"
    )
    (sql / "V3__drop.sql").write_text("ALTER TABLE orders DROP COLUMN amount;\n")
    (sql / "V4__type.sql").write_text("ALTER TABLE orders MODIFY amount BIGINT NOT NULL;\n")
    lint = invoke(mysql_project, "db", "lint")
    assert lint.exit_code == 1, lint.output
    for expected in (
        "V2__mixed.sql:2: mixed-ddl-dml",
        "V3__drop.sql:1: drop-column: DROP COLUMN orders.amount",
        "V3__drop.sql:1: algorithm",
        "V4__type.sql:1: table-copy",
    ):
        assert expected in lint.output
    up = invoke(mysql_project, "env", "up", "dev")
    assert up.exit_code == 1, up.output
    assert query(mysql_database, "SHOW TABLES") == []  # refused before the database step


def test_baseline_on_a_database_made_without_migrations(mysql_project, mysql_database):
    query(mysql_database, "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, amount INT NOT NULL)")
    up = invoke(mysql_project, "env", "up", "dev")
    assert up.exit_code == 3 and "already holds tables or routines (orders)" in up.output
    assert invoke(mysql_project, "db", "baseline", "dev", "--version", "1").exit_code == 0
    (mysql_project / "sql" / "V2__t.sql").write_text("CREATE TABLE t (id INT);\n")
    assert invoke(mysql_project, "db", "migrate", "dev").exit_code == 0
    rows = query(mysql_database, "SELECT version, type FROM flyway_schema_history ORDER BY installed_rank")
    assert rows == [("1", "BASELINE"), ("2", "SQL")]


def test_engine_mismatch_is_a_configuration_error(mysql_project):
    toml = mysql_project / "toolkit.toml"
    toml.write_text(toml.read_text().replace('engine = "mysql"', 'engine = "postgres"'))
    result = invoke(mysql_project, "env", "up", "dev")
    assert result.exit_code == 3, result.output
    assert "says the database engine is 'mysql', but [migrations].engine is 'postgres'" in result.output


def test_eight_concurrent_db_migrate_processes_apply_each_migration_once(mysql_project, mysql_database):
    sql = mysql_project / "sql"
    (sql / "V1__orders.sql").write_text("CREATE TABLE applied_log (version INT);\n")
    assert invoke(mysql_project, "env", "up", "dev").exit_code == 0
    for n in range(2, 12):
        (sql / f"V{n}__step.sql").write_text(f"INSERT INTO applied_log VALUES ({n});\nDO SLEEP(0.05);\n")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "toolkit", "-C", str(mysql_project), "--plain", "db", "migrate", "dev"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "CI": "true"},
        )
        for _ in range(8)
    ]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8, "\n---\n".join(outputs)
    assert query(mysql_database, "SELECT COUNT(*), COUNT(DISTINCT version) FROM applied_log") == [(10, 10)]
    assert query(mysql_database, "SELECT COUNT(*), COUNT(DISTINCT version) FROM flyway_schema_history") == [(11, 11)]


def test_drift_finds_changes_made_outside_the_migrations(mysql_project, mysql_database):
    sql = mysql_project / "sql"
    (sql / "V2__more.sql").write_text(
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL DEFAULT '');\n"
        "CREATE INDEX customers_name ON customers (name);\n"
        "CREATE VIEW big_orders AS SELECT id FROM orders WHERE amount > 100;\n"
        "DELIMITER $$\nCREATE PROCEDURE touch() BEGIN SELECT 1; END$$\nDELIMITER ;\n"
    )
    assert invoke(mysql_project, "env", "up", "dev").exit_code == 0
    clean = invoke(mysql_project, "db", "drift", "dev", "--json")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["differences"] == []
    query(mysql_database, "ALTER TABLE customers ADD COLUMN email VARCHAR(80)")
    query(mysql_database, "DROP INDEX customers_name ON customers")
    query(mysql_database, "CREATE TABLE hand_made (id INT)")
    drift = invoke(mysql_project, "db", "drift", "dev", "--json")
    assert drift.exit_code == 1, drift.output
    found = {(d["kind"], d["name"], d["change"]) for d in json.loads(drift.stdout)["differences"]}
    assert found == {
        ("column", "customers.email", "unexpected"),
        ("index", "customers.customers_name", "missing"),
        ("table", "hand_made", "unexpected"),
        ("column", "hand_made.id", "unexpected"),
    }
    leftovers = query(mysql_database, "SHOW DATABASES LIKE %s", (f"{mysql_database.name}_drift%",))
    assert leftovers == []  # the scratch database is gone


def test_drift_refuses_a_migration_that_names_the_live_database(mysql_project, mysql_database):
    (mysql_project / "sql" / "V2__qualified.sql").write_text(f"CREATE TABLE `{mysql_database.name}`.t (id INT);\n")
    assert invoke(mysql_project, "env", "up", "dev").exit_code == 0
    refused = invoke(mysql_project, "db", "drift", "dev")
    assert refused.exit_code == 3, refused.output
    assert "V2__qualified.sql:1 names the database" in refused.output
