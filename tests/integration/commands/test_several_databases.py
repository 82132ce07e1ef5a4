"""Two PostgreSQL databases in one environment (issue 16): migrated in the declared order, each with its own
history table and its own lock; a failure in the second leaves the first applied and says so."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.projects import free_port, new_state_dir, remove_state_dir, write_two_database_project
from tests.running import invoke

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path):
    state_dir = new_state_dir()
    try:
        yield write_two_database_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    finally:
        remove_state_dir(state_dir)


def connect(project, database: str):
    values = json.loads((project / "tfvars" / "local.tfvars.json").read_text())
    name, user, password_file = {
        "orders": (values["db_name"], values["db_username"], values["db_password_file"]),
        "analytics": (values["warehouse_db_name"], "analytics_app", values["warehouse_db_password_file"]),
    }[database]
    password = (project / password_file).read_text().strip()
    return psycopg2.connect(host="127.0.0.1", port=values["db_port"], dbname=name, user=user, password=password)


def deployment_record(project) -> dict:
    from toolkit.project.loader import load_project

    return json.loads((load_project(project).state_dir / "deployments" / "local.json").read_text())


def history(project, database: str) -> list[tuple[str, bool]]:
    conn = connect(project, database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT script, success FROM flyway_schema_history ORDER BY installed_rank")
            return cur.fetchall()
    finally:
        conn.close()


def test_both_databases_migrate_in_order_each_with_its_own_history(project):
    up = invoke(project, "env", "up", "local", "--json")
    assert up.exit_code == 0, up.output
    result = json.loads(up.stdout)
    assert [d["name"] for d in result["databases"]] == ["orders", "analytics"]
    assert [len(d["applied"]) for d in result["databases"]] == [5, 2]
    assert "/warehouse" in result["databases"][1]["url"] and "/demo" in result["databases"][0]["url"]
    assert up.output.index("> database orders") < up.output.index("> database analytics")
    assert [s for s, _ in history(project, "orders")] == sorted(p.name for p in (project / "sql/orders").iterdir())
    assert history(project, "analytics") == [("V1__create_daily_orders.sql", True), ("V2__create_load_runs.sql", True)]
    conn = connect(project, "analytics")
    with conn, conn.cursor() as cur:  # the warehouse has its tables and none of the orders database's
        cur.execute("SELECT to_regclass('daily_orders') IS NOT NULL, to_regclass('customers') IS NULL")
        assert cur.fetchone() == (True, True)
    conn.close()
    password = (project / ".toolkit/local/postgres/warehouse-password").read_text().strip()
    assert password not in up.output

    status = invoke(project, "db", "status", "local", "--database", "analytics", "--json")
    assert status.exit_code == 0, status.output
    assert [f["script"] for f in json.loads(status.stdout)["files"]] == [s for s, _ in history(project, "analytics")]
    both = invoke(project, "db", "status", "local")
    assert both.stdout.index("database orders:") < both.stdout.index("database analytics:")
    unknown = invoke(project, "db", "status", "local", "--database", "nope")
    assert unknown.exit_code == 64 and "no database 'nope'" in unknown.output and "orders, analytics" in unknown.output

    doctor = invoke(project, "doctor", "local")
    assert doctor.exit_code == 0, doctor.output
    assert "database orders (local)" in doctor.stdout and "database analytics (local)" in doctor.stdout

    record = deployment_record(project)
    assert record["format"] == 3 and record["first_database"] == "orders"
    assert sorted(record["migrations"]) == ["1", "2", "3", "4", "5"]
    assert sorted(record["databases"]["analytics"]["migrations"]) == ["1", "2"]
    check = invoke(project, "promote-check", "local", "local")
    assert check.exit_code == 0, check.output

    (project / "sql/analytics/V3__more.sql").write_text("ALTER TABLE daily_orders ADD COLUMN note TEXT;\n")
    plan = invoke(project, "plan", "local", "--detailed-exitcode")
    assert plan.exit_code == 2 and "analytics/V3__more.sql" in plan.stdout, plan.output
    drifted = invoke(project, "promote-check", "local", "local")
    assert drifted.exit_code == 1 and "database analytics: migration 3 would reach local" in drifted.output
    only = invoke(project, "db", "migrate", "local", "--database", "analytics", "--json")
    assert only.exit_code == 0, only.output
    assert [s["script"] for s in json.loads(only.stdout)["applied"]] == ["V3__more.sql"]

    down = invoke(project, "env", "down", "local")
    assert down.exit_code == 0, down.output
    assert not (project / ".toolkit/local/postgres/warehouse-password").exists()
    assert not (project / ".toolkit/local/postgres/password").exists()


def test_a_failure_in_the_second_database_leaves_the_first_applied_and_says_so(project):
    assert invoke(project, "env", "up", "local").exit_code == 0
    (project / "sql/orders/V6__note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    (project / "sql/analytics/V3__broken.sql").write_text("SELECT no_such_column FROM daily_orders;\n")
    failed = invoke(project, "env", "up", "local")
    assert failed.exit_code == 4, failed.output
    assert "step 'database analytics' failed" in failed.output
    assert "V3__broken.sql:1: migration 3 failed" in failed.output
    assert "1 migration(s) applied in orders: V6__note.sql" in failed.output
    assert "databases already migrated: orders; not reached: none" in failed.output
    assert "Traceback" not in failed.output
    assert history(project, "orders")[-1] == ("V6__note.sql", True)
    assert [s for s, _ in history(project, "analytics")] == ["V1__create_daily_orders.sql", "V2__create_load_runs.sql"]
    record = deployment_record(project)
    assert "6" not in record["migrations"]  # a failed run records nothing: the last complete deploy stands

    (project / "sql/analytics/V3__broken.sql").write_text("ALTER TABLE daily_orders ADD COLUMN note TEXT;\n")
    fixed = invoke(project, "env", "up", "local", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert [[s["script"] for s in d["applied"]] for d in json.loads(fixed.stdout)["databases"]] == [
        [],
        ["V3__broken.sql"],
    ]


def test_each_database_has_its_own_lock(project):
    """A run holding the warehouse's migration lock stops only the warehouse: the orders database migrates
    (its lock is its own), the warehouse waits its lock_timeout_seconds and the run says which one."""
    from toolkit.migrations.apply import lock_key
    from toolkit.migrations.history import HistoryTable

    assert invoke(project, "env", "up", "local").exit_code == 0
    (project / "sql/orders/V6__note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    (project / "sql/analytics/V3__note.sql").write_text("ALTER TABLE daily_orders ADD COLUMN note TEXT;\n")
    holder = connect(project, "analytics")
    holder.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (lock_key(HistoryTable("public", "flyway_schema_history")),))
        blocked = invoke(project, "env", "up", "local")
    finally:
        holder.close()
    assert blocked.exit_code != 0, blocked.output
    assert "step 'database analytics' failed" in blocked.output and "holds the lock" in blocked.output
    assert "databases already migrated: orders" in blocked.output
    assert history(project, "orders")[-1] == ("V6__note.sql", True)
    assert [s for s, _ in history(project, "analytics")][-1] == "V2__create_load_runs.sql"
    after = invoke(project, "env", "up", "local")
    assert after.exit_code == 0, after.output
    assert history(project, "analytics")[-1] == ("V3__note.sql", True)


def test_a_reviewed_plan_names_each_database_and_applies_only_what_was_reviewed(project, tmp_path):
    assert invoke(project, "env", "up", "local").exit_code == 0
    (project / "sql/orders/V6__note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    (project / "sql/analytics/V3__note.sql").write_text("ALTER TABLE daily_orders ADD COLUMN note TEXT;\n")
    bundle = tmp_path / "bundle"
    planned = invoke(project, "plan", "local", "--out", str(bundle), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    migrations = json.loads((bundle / "migrations.json").read_text())
    assert migrations["allowed"].keys() == {"orders/V6__note.sql", "analytics/V3__note.sql"}
    assert "orders/V1__create_customers.sql" in migrations["files"]
    assert "analytics/V1__create_daily_orders.sql" in migrations["files"]
    summary = (bundle / "summary.md").read_text()
    assert "`analytics/V3__note.sql`" in summary and "`orders/V6__note.sql`" in summary
    assert json.loads((bundle / "manifest.json").read_text())["format"] == 4

    (project / "sql/analytics/V4__later.sql").write_text("ALTER TABLE daily_orders ADD COLUMN later TEXT;\n")
    refused = invoke(project, "apply", "local", "--plan", str(bundle))
    assert refused.exit_code == 3, refused.output
    assert "analytics/V4__later.sql" in refused.output
    assert [s for s, _ in history(project, "orders")][-1] == "V5__add_customer_marketing_opt_in.sql"  # nothing ran

    (project / "sql/analytics/V4__later.sql").unlink()
    applied = invoke(project, "apply", "local", "--plan", str(bundle))
    assert applied.exit_code == 0, applied.output
    assert "2 migration(s) applied" in applied.stdout
    assert history(project, "orders")[-1] == ("V6__note.sql", True)
    assert history(project, "analytics")[-1] == ("V3__note.sql", True)
    record = deployment_record(project)
    assert "6" in record["migrations"] and "3" in record["databases"]["analytics"]["migrations"]


def test_drift_is_reported_per_database(project):
    assert invoke(project, "env", "up", "local").exit_code == 0
    conn = connect(project, "analytics")
    with conn, conn.cursor() as cur:  # a change made by hand in the warehouse only
        cur.execute("ALTER TABLE daily_orders ADD COLUMN by_hand TEXT")
    conn.close()
    report = invoke(project, "drift", "local", "--json")
    assert report.exit_code == 1, report.output
    databases = {d["name"]: d for d in json.loads(report.stdout)["databases"]}
    assert databases["orders"]["differences"] == []
    (difference,) = databases["analytics"]["differences"]
    assert "by_hand" in difference["name"] and difference["change"] == "unexpected"
    text = invoke(project, "drift", "local")
    assert "  database analytics: " in text.stdout and "database orders:" not in text.stdout
    only = invoke(project, "db", "drift", "local", "--database", "orders")
    assert only.exit_code == 0, only.output


def test_the_reference_project_from_a_fresh_checkout_stands_up_both_databases(tmp_path):
    """What `make env` runs on a fresh clone: the tracked files only, `env up local`, both databases real,
    the Glue load rendered to write into the warehouse."""
    import shutil
    import subprocess

    from tests.projects import REPO

    clone = tmp_path / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    values = clone / "tfvars" / "local.tfvars.json"
    values.write_text(values.read_text().replace("54329", str(free_port())))  # beside other checkouts' runs
    try:
        up = invoke(clone, "env", "up", "local", "--json")
        assert up.exit_code == 0, up.output
        result = json.loads(up.stdout)
        assert [(d["name"], len(d["applied"])) for d in result["databases"]] == [("orders", 5), ("analytics", 2)]
        assert [s["script"] for s in result["databases"][1]["applied"]] == sorted(
            p.name for p in (REPO / "sql" / "analytics").glob("*.sql")
        )
        from toolkit.project.loader import load_project

        rendered = load_project(clone).state_dir / "local" / "rendered" / "glue" / "orders_load.json"
        arguments = json.loads(rendered.read_text())["DefaultArguments"]
        assert arguments["--db_name"] == "analytics" and arguments["--db_user"] == "analytics_app"
    finally:
        down = invoke(clone, "env", "down", "local")
    assert down.exit_code == 0, down.output


def test_two_databases_that_are_one_database_with_one_history_are_refused(project):
    values = project / "tfvars" / "local.tfvars.json"
    data = json.loads(values.read_text())
    same = {"warehouse_db_name": data["db_name"], "warehouse_db_username": data["db_username"]}
    values.write_text(json.dumps({**data, **same, "warehouse_db_password_file": data["db_password_file"]}))
    refused = invoke(project, "env", "up", "local")
    assert refused.exit_code == 3, refused.output
    assert "databases orders and analytics of 'local' are the same database (demo on 127.0.0.1:" in refused.output
    assert "step 'database orders' failed" in refused.output and "applying" not in refused.output  # nothing ran
