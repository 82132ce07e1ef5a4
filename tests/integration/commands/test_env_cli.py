"""`toolkit env up/down local` end to end through the CLI: real Terraform, real PostgreSQL."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.projects import available_engines
from tests.running import invoke

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("engine", available_engines())
def test_up_again_and_down(local_project, engine):
    first = invoke(local_project, "--engine", engine, "env", "up", "local", "--json")
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    assert [m["version"] for m in result["migrations_applied"]] == ["1", "2", "3", "4", "5"]
    assert result["stacks"][0]["changed"] and result["stacks"][0]["workspace_created"]
    assert "***@127.0.0.1" in result["database_url"]

    password = (local_project / ".toolkit/local/postgres/password").read_text().strip()
    assert password not in first.output
    port = json.loads((local_project / "tfvars/local.tfvars.json").read_text())["db_port"]
    conn = psycopg2.connect(host="127.0.0.1", port=port, dbname="demo", user="demo_app", password=password)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM order_statuses")
        assert cur.fetchone()[0] == 5
        cur.execute("SELECT count(*), bool_and(success) FROM flyway_schema_history")
        assert cur.fetchone() == (5, True)
    conn.close()

    doctor = invoke(local_project, "doctor", "local")
    assert doctor.exit_code == 0 and "ok  database (local)     postgresql://demo_app:***@127.0.0.1:" in doctor.stdout

    again = invoke(local_project, "--engine", engine, "env", "up", "local")
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.stdout
    assert "no changes, apply skipped" in again.output

    down = invoke(local_project, "--engine", engine, "env", "down", "local")
    assert down.exit_code == 0, down.output
    assert "destroyed infra; local database removed" in down.stdout
    assert not (local_project / ".toolkit/local/postgres/password").exists()
    from toolkit.project.loader import load_project

    assert not (load_project(local_project).state_dir / "local" / "postgres").exists()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=port, dbname="demo", user="demo_app", password=password)


def test_failing_migration_stops_the_run_and_a_rerun_after_the_fix_completes(local_project):
    bad = local_project / "sql" / "V6__broken.sql"
    bad.write_text("CREATE TABLE fine (id int);\n\nSELECT no_such_column FROM customers;\n")
    failed = invoke(local_project, "env", "up", "local")
    assert failed.exit_code == 4, failed.output
    assert 'V6__broken.sql:3: migration 6 failed: column "no_such_column" does not exist' in failed.output
    assert "Traceback" not in failed.output
    scripts = sorted(p.name for p in (local_project / "sql").glob("V[1-5]__*.sql"))
    assert (
        f"already changed by this run: stack infra applied (4 created); 5 migration(s) applied: {', '.join(scripts)}"
        in failed.output
    )

    bad.write_text("CREATE TABLE fine (id int);\n")
    fixed = invoke(local_project, "env", "up", "local")
    assert fixed.exit_code == 0, fixed.output
    assert "1 applied now, 5 before" in fixed.stdout

    (local_project / "sql" / "V7__fine.sql").write_text("CREATE TABLE seven (id int);\n")
    (local_project / "sql" / "V8__broken.sql").write_text("SELECT no_such_column FROM customers;\n")
    failed = invoke(local_project, "env", "up", "local")
    assert failed.exit_code == 4, failed.output
    assert "already changed by this run: 1 migration(s) applied: V7__fine.sql\n" in failed.output
    invoke(local_project, "env", "down", "local")


def test_plan_reports_pending_migrations_with_detailed_exitcode(local_project):
    assert invoke(local_project, "env", "up", "local").exit_code == 0
    clean = invoke(local_project, "plan", "local", "--detailed-exitcode")
    assert clean.exit_code == 0, clean.output
    (local_project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    pending = invoke(local_project, "plan", "local", "--detailed-exitcode")
    assert pending.exit_code == 2, pending.output
    assert "1 pending" in pending.stdout and "V6__add_note.sql" in pending.stdout
    status = json.loads(invoke(local_project, "env", "status", "local", "--json").stdout)
    assert status["migrations_applied"] == 5 and status["migrations_pending"] == ["V6__add_note.sql"]
    assert status["stacks"][0]["workspace_exists"] and status["stacks"][0]["resources"] == 4
    invoke(local_project, "env", "down", "local")
