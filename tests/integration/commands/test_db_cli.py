"""`toolkit db ...` through the CLI on the local environment: real Terraform outputs, real PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.projects import connect_local, free_port, write_local_project
from tests.running import invoke

pytestmark = pytest.mark.slow


@pytest.fixture
def state_dir():
    """The local server's data outside pytest's temp root, which another pytest session starting
    meanwhile re-locks to mode 0700, locking the server's unprivileged user out."""
    import shutil
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="toolkit-test-state-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def up_project(tmp_path, state_dir):
    project = write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    result = invoke(project, "env", "up", "local")
    assert result.exit_code == 0, result.output
    yield project
    invoke(project, "env", "down", "local")


def test_status_json_and_table(up_project):
    (up_project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    result = invoke(up_project, "db", "status", "local", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["current"] == "5"
    assert [(f["version"], f["state"]) for f in status["files"]][-2:] == [("5", "applied"), ("6", "pending")]
    table = invoke(up_project, "db", "status", "local")
    assert "at version 5, 1 pending" in table.stdout
    assert "6          pending            V6__add_note.sql" in table.stdout


def test_dry_run_prints_the_sql_with_placeholders_filled_and_changes_nothing(up_project):
    (up_project / "sql" / "V6__comment.sql").write_text(
        "COMMENT ON TABLE orders IS 'env ${environment}, db ${db_name}';\n"
    )
    result = invoke(up_project, "db", "migrate", "local", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "-- V6__comment.sql (new)\nCOMMENT ON TABLE orders IS 'env local, db demo';" in result.stdout
    status = json.loads(invoke(up_project, "db", "status", "local", "--json").stdout)
    assert status["files"][-1]["state"] == "pending"
    applied = invoke(up_project, "db", "migrate", "local")
    assert applied.exit_code == 0 and "1 applied now, 5 before" in applied.stdout


def test_unknown_placeholder_fails_before_anything_runs(up_project):
    (up_project / "sql" / "V6__a.sql").write_text("CREATE TABLE a (id int);\n")
    (up_project / "sql" / "V7__b.sql").write_text("GRANT SELECT ON a TO ${reporting_role};\n")
    result = invoke(up_project, "db", "migrate", "local")
    assert result.exit_code == 1
    assert "V7__b.sql:1: unknown placeholder ${reporting_role}: give it a value" in result.output
    with connect_local(up_project) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('a') IS NULL")
        assert cur.fetchone() == (True,)
    conn.close()


def test_validate_catches_edits_and_missing_files_and_repair_realigns(up_project):
    assert invoke(up_project, "db", "validate", "local").exit_code == 0
    v2 = up_project / "sql" / "V2__create_order_statuses.sql"
    v2.write_text(v2.read_text() + "\n-- reviewed\n")
    edited = invoke(up_project, "db", "validate", "local")
    assert edited.exit_code == 1
    assert "V2__create_order_statuses.sql: changed after it was applied" in edited.output
    (up_project / "sql" / "V4__create_order_lines.sql").unlink()
    missing = invoke(up_project, "db", "validate", "local")
    assert "V4__create_order_lines.sql: version 4 is applied but its file is missing" in missing.output
    repaired = invoke(up_project, "db", "repair", "local")
    assert repaired.exit_code == 0, repaired.output
    assert "realigned checksum: V2__create_order_statuses.sql" in repaired.stdout
    still_missing = invoke(up_project, "db", "validate", "local")
    assert still_missing.exit_code == 1 and "changed after" not in still_missing.output


def test_repair_leaves_a_version_flyway_undid_alone_and_migrate_runs_it_again(up_project):
    v5 = up_project / "sql" / "V5__add_customer_marketing_opt_in.sql"
    with connect_local(up_project) as conn, conn.cursor() as cur:
        # what `flyway undo` ran (U5)
        cur.execute("ALTER TABLE customers DROP COLUMN marketing_opt_in; DROP FUNCTION order_total_cents(bigint)")
        cur.execute(
            "INSERT INTO flyway_schema_history SELECT max(installed_rank) + 1, '5', 'add customer marketing opt in', "
            "'UNDO_SQL', 'U5__add_customer_marketing_opt_in.sql', 42, 'flyway', now(), 3, true "
            "FROM flyway_schema_history"
        )
        cur.execute("SELECT checksum FROM flyway_schema_history WHERE version = '5' AND type = 'SQL'")
        (before,) = cur.fetchone()
    conn.close()
    v5.write_text(v5.read_text() + "-- reworked after the undo\n")  # pending again, so it may change
    status = json.loads(invoke(up_project, "db", "status", "local", "--json").stdout)
    assert (status["files"][-1]["state"], status["problems"]) == ("pending", [])
    repaired = invoke(up_project, "db", "repair", "local")
    assert repaired.exit_code == 0 and "nothing to repair" in repaired.stdout, repaired.output
    with connect_local(up_project) as conn, conn.cursor() as cur:
        cur.execute("SELECT checksum FROM flyway_schema_history WHERE version = '5' AND type = 'SQL'")
        assert cur.fetchone() == (before,)  # the undone run keeps the checksum it ran with
    conn.close()
    migrated = invoke(up_project, "db", "migrate", "local")
    assert migrated.exit_code == 0 and "1 applied now, 4 before" in migrated.stdout, migrated.output


def test_out_of_order_is_refused(up_project):
    (up_project / "sql" / "V4_5__late.sql").write_text("CREATE TABLE late (id int);\n")
    result = invoke(up_project, "db", "migrate", "local")
    assert result.exit_code == 1
    assert "V4_5__late.sql: version 4.5 is not applied but 5 already is (out of order)" in result.output


def test_failed_non_transactional_migration_blocks_until_repair(up_project):
    bad = up_project / "sql" / "V6__index.sql"
    bad.write_text("-- toolkit:transaction=false\nCREATE INDEX CONCURRENTLY o_x ON orders (no_such);\n")
    failed = invoke(up_project, "db", "migrate", "local")
    assert failed.exit_code == 4
    assert 'V6__index.sql:2: migration 6 failed: column "no_such" does not exist' in failed.output
    bad.write_text("-- toolkit:transaction=false\nCREATE INDEX CONCURRENTLY o_x ON orders (placed_at);\n")
    blocked = invoke(up_project, "db", "migrate", "local")
    assert blocked.exit_code == 1 and "run `toolkit db repair local`" in blocked.output
    status = json.loads(invoke(up_project, "db", "status", "local", "--json").stdout)
    assert status["files"][-1]["state"] == "failed"
    repaired = invoke(up_project, "db", "repair", "local")
    assert "removed failed row: V6__index.sql" in repaired.stdout
    assert invoke(up_project, "db", "migrate", "local").exit_code == 0


def test_baseline_then_only_newer_files_run(tmp_path, state_dir):
    project = write_local_project(tmp_path / "project", port=free_port(), sql_from=None, state_dir=state_dir)
    assert invoke(project, "env", "up", "local").exit_code == 0
    try:
        with connect_local(project) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE legacy (id int)")
            # Flyway's marker that it created the schema: the database is still untouched by migrations
            cur.execute(
                "INSERT INTO flyway_schema_history VALUES (0, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', "
                "'\"public\"', NULL, 'flyway', now(), 0, true)"
            )
        conn.close()
        assert invoke(project, "db", "baseline", "local", "--version", "x.y").exit_code == 64
        result = invoke(project, "db", "baseline", "local", "--version", "2")
        assert result.exit_code == 0 and "baselined at version 2" in result.stdout
        assert invoke(project, "db", "baseline", "local", "--version", "3").exit_code == 4
        (project / "sql" / "V1__legacy.sql").write_text("CREATE TABLE legacy (id int);\n")
        (project / "sql" / "V3__next.sql").write_text("CREATE TABLE next (id int);\n")
        migrated = invoke(project, "db", "migrate", "local")
        assert migrated.exit_code == 0, migrated.output
        assert "V3__next.sql" in migrated.stdout and "V1__legacy.sql" not in migrated.stdout
    finally:
        invoke(project, "env", "down", "local")


def test_lint_refuses_drop_column_without_annotation_and_accepts_it_with(tmp_path):
    project = write_local_project(tmp_path / "project", port=free_port())
    drop = project / "sql" / "V6__drop_opt_in.sql"
    drop.write_text("-- no longer used\nALTER TABLE customers DROP COLUMN marketing_opt_in;\n")
    refused = invoke(project, "db", "lint")
    assert refused.exit_code == 1
    assert "V6__drop_opt_in.sql:2: drop-column: DROP COLUMN customers.marketing_opt_in" in refused.stdout
    up = invoke(project, "env", "up", "local")  # refused in the validate step, before Terraform runs
    assert up.exit_code == 1 and "migrations that would run in 'local' cannot:" in up.output
    assert not (project / ".toolkit" / "local" / "postgres").exists()
    drop.write_text("-- toolkit:allow=drop-column\nALTER TABLE customers DROP COLUMN marketing_opt_in;\n")
    accepted = invoke(project, "db", "lint", "--json")
    assert accepted.exit_code == 0
    assert json.loads(accepted.stdout)["findings"][0]["allowed"] is True


def test_drift_reports_a_manual_alter_table(up_project):
    clean = invoke(up_project, "db", "drift", "local")
    assert clean.exit_code == 0, clean.output
    assert "no drift" in clean.stdout
    with connect_local(up_project) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE customers ADD COLUMN hand_made text")
        cur.execute("ALTER TABLE orders ALTER COLUMN currency TYPE varchar(3)")
        cur.execute("DROP INDEX orders_placed_at_idx")
    conn.close()
    drift = invoke(up_project, "db", "drift", "local", "--json")
    assert drift.exit_code == 1
    found = {(d["kind"], d["name"], d["change"]) for d in json.loads(drift.stdout)["differences"]}
    assert found == {
        ("column", "public.customers.hand_made", "unexpected"),
        ("column", "public.orders.currency", "changed"),
        ("index", "public.orders_placed_at_idx", "missing"),
    }


def test_plan_fills_placeholders_and_lists_lint_refusals(up_project):
    (up_project / "sql" / "V6__env_note.sql").write_text("COMMENT ON TABLE orders IS '${environment}';\n")
    (up_project / "sql" / "V7__drop.sql").write_text("ALTER TABLE customers DROP COLUMN marketing_opt_in;\n")
    result = invoke(up_project, "plan", "local")
    assert result.exit_code == 0, result.output
    assert "2 pending" in result.stdout
    assert "unknown placeholder" not in result.stdout
    assert "problem     V7__drop.sql:1: drop-column: DROP COLUMN customers.marketing_opt_in" in result.stdout


def test_drift_reports_an_edited_repeatable_as_pending_not_drift(up_project):
    view = up_project / "sql" / "R__customer_emails.sql"
    view.write_text("CREATE OR REPLACE VIEW customer_emails AS SELECT customer_id, email FROM customers;\n")
    assert invoke(up_project, "db", "migrate", "local").exit_code == 0
    view.write_text("CREATE OR REPLACE VIEW customer_emails AS SELECT customer_id, email, full_name FROM customers;\n")
    result = invoke(up_project, "db", "drift", "local", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["differences"] == []
    [pending] = report["pending"]
    assert pending["script"] == "R__customer_emails.sql" and "runs again on the next migrate" in pending["reason"]
    assert {(d["kind"], d["name"], d["change"]) for d in pending["differences"]} == {
        ("view", "public.customer_emails", "changed"),
        ("column", "public.customer_emails.full_name", "missing"),
    }
    with connect_local(up_project) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE customers ADD COLUMN hand_made text")
    conn.close()
    text = invoke(up_project, "db", "drift", "local")
    assert text.exit_code == 1
    assert "1 difference(s)\n  column public.customers.hand_made is not made by any migration" in text.stdout
    assert "pending, not drift: R__customer_emails.sql: changed since it was applied" in text.stdout


def test_a_protected_environment_is_migrated_only_through_a_reviewed_plan(tmp_path, state_dir):
    from toolkit.adapters.postgres.server import EmbeddedServer

    project = write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    port = free_port()
    values = json.loads((project / "tfvars" / "local.tfvars.json").read_text())
    values.update(db_port=port, db_password_file=".toolkit/prod/postgres/password")
    (project / "tfvars" / "prod.tfvars.json").write_text(json.dumps(values))
    config = (project / "toolkit.toml").read_text()
    body = config[config.index("[environments.local]") :].split("\n", 1)[1]
    config += "\n[environments.prod]\nprotected = true\n" + body.replace("local.tfvars.json", "prod.tfvars.json")
    (project / "toolkit.toml").write_text(config)
    try:
        first = invoke(project, "plan", "prod", "--out", str(tmp_path / "plan1"))
        assert first.exit_code == 0, first.output
        applied = invoke(project, "apply", "prod", "--plan", str(tmp_path / "plan1"))
        assert applied.exit_code == 0, applied.output  # the reviewed path creates and migrates it

        (project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
        for args in (("migrate",), ("repair",), ("baseline", "--version", "1")):
            refused = invoke(project, "db", *args, "prod")
            assert refused.exit_code == 3, refused.output
            assert "environment 'prod' is protected: it is changed only by a reviewed plan" in refused.output
            assert "hint: toolkit plan prod --out DIR, review DIR/summary.md, then toolkit apply prod --plan DIR" in (
                refused.output
            )
        dry = invoke(project, "db", "migrate", "prod", "--dry-run")
        assert dry.exit_code == 0 and "-- V6__add_note.sql (new)" in dry.stdout, dry.output
        for args in (("status", "prod"), ("validate", "prod"), ("lint",)):
            assert invoke(project, "db", *args).exit_code == 0, args

        second = invoke(project, "plan", "prod", "--out", str(tmp_path / "plan2"))
        assert second.exit_code == 0, second.output
        applied = invoke(project, "apply", "prod", "--plan", str(tmp_path / "plan2"))
        assert applied.exit_code == 0, applied.output
        status = json.loads(invoke(project, "db", "status", "prod", "--json").stdout)
        assert [(f["version"], f["state"]) for f in status["files"]][-1] == ("6", "applied")
    finally:
        EmbeddedServer(data_dir=state_dir / "prod" / "postgres" / "data", port=port).remove()


def test_versions_apply_in_numeric_order_and_duplicates_fail_with_exit_1(up_project):
    sql = up_project / "sql"
    (sql / "V5_10__second.sql").write_text("CREATE TABLE second (id int);\n")
    (sql / "V5_9__first.sql").write_text("CREATE TABLE first (id int);\n")
    (sql / "V05_9__again.sql").write_text("CREATE TABLE again (id int);\n")
    duplicate = invoke(up_project, "db", "migrate", "local")
    assert duplicate.exit_code == 1
    assert "V5_9__first.sql: versioned migration duplicates V05_9__again.sql (same version)" in duplicate.output
    assert "hint: rename or fix the files (a version may be used once); nothing was run" in duplicate.output
    (sql / "V05_9__again.sql").unlink()
    migrated = invoke(up_project, "db", "migrate", "local")
    assert migrated.exit_code == 0, migrated.output
    lines = migrated.stdout.splitlines()
    assert lines[0] == "2 applied now, 5 before"
    assert [line.split()[0] for line in lines[1:]] == ["V5_9__first.sql", "V5_10__second.sql"]


def test_a_failing_migration_exits_4_and_leaves_nothing_behind(up_project):
    (up_project / "sql" / "V6__broken.sql").write_text(
        "CREATE TABLE notes (id int);\nINSERT INTO notes VALUES (1);\nSELECT missing_column FROM notes;\n"
    )
    failed = invoke(up_project, "db", "migrate", "local")
    assert failed.exit_code == 4
    assert (
        'error: V6__broken.sql:3: migration 6 failed: column "missing_column" does not exist [SQLSTATE 42703]\n'
        "  hint: fix the migration and run again; it was rolled back and nothing of it was applied"
    ) in failed.output
    assert "Traceback" not in failed.output
    status = json.loads(invoke(up_project, "db", "status", "local", "--json").stdout)
    assert (status["files"][-1]["script"], status["files"][-1]["state"]) == ("V6__broken.sql", "pending")
    with connect_local(up_project) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('notes') IS NULL")
        assert cur.fetchone() == (True,)
    conn.close()
