"""The verified no-op of `db migrate` (deploy/noop_verdict.py), attacked: every input its verdict depends on
is changed in turn, disguised where it can be, and each time the full run must happen (and say what it
finds), never the remembered answer. Real PostgreSQL, real Terraform outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.projects import connect_local, free_port, write_local_project
from tests.running import invoke
from toolkit.deploy import noop_verdict
from toolkit.deploy import validation as validation_module

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The reference local environment, up, with its five migrations applied; every file counts as old
    enough to trust (the racy window is tested on its own below)."""
    from tests.projects import new_state_dir

    monkeypatch.setattr(noop_verdict, "RACY_SECONDS", -3600.0)
    root = write_local_project(tmp_path / "project", port=free_port(), state_dir=new_state_dir())
    up = invoke(root, "env", "up", "local")
    assert up.exit_code == 0, up.output
    yield root
    invoke(root, "env", "down", "local")


@pytest.fixture
def full_runs(monkeypatch) -> list[str]:
    """Each time `db migrate` reads the migration files (the full run), called through."""
    seen: list[str] = []
    real = validation_module.load_migrations

    def load_migrations(ctx):
        seen.append(ctx.current_database.name)
        return real(ctx)

    monkeypatch.setattr(validation_module, "load_migrations", load_migrations)
    return seen


def migrate(project, *args: str) -> dict:
    result = invoke(project, "db", "migrate", "local", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def verified(project, full_runs) -> None:
    """Two runs: the first reads every file and writes the verdict, the second answers from it."""
    assert migrate(project)["already_applied"] == 5
    assert migrate(project) == {"already_applied": 5, "applied": [], "dry_run": False, "would_apply": []}
    assert len(full_runs) == 1, "the second no-op must come from the verdict"
    full_runs.clear()


def sql(project, statement: str, *args) -> None:
    conn = connect_local(project)
    try:
        with conn.cursor() as cur:
            cur.execute(statement, args)
    finally:
        conn.close()


def test_a_file_edited_in_place_with_its_size_and_mtime_put_back_is_read_and_refused(project, full_runs):
    verified(project, full_runs)
    path = project / "sql" / "V3__create_orders.sql"
    before = path.stat()
    text = path.read_text()
    path.write_text(text.replace("CREATE", "create", 1))  # same size, other bytes
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    result = invoke(project, "db", "migrate", "local")
    assert result.exit_code == 1, result.output
    assert "V3__create_orders.sql" in result.output and "checksum" in result.output
    assert full_runs, "the edited file must be read"


def test_a_history_row_changed_in_the_database_is_seen(project, full_runs):
    verified(project, full_runs)
    sql(project, "UPDATE flyway_schema_history SET checksum = checksum + 1 WHERE version = '2'")
    result = invoke(project, "db", "migrate", "local")
    assert result.exit_code == 1, result.output
    assert "V2__create_order_statuses.sql" in result.output
    assert full_runs


def test_any_column_of_the_history_counts_not_only_the_checksum(project, full_runs):
    verified(project, full_runs)
    sql(project, "UPDATE flyway_schema_history SET success = false WHERE version = '5'")
    result = invoke(project, "db", "migrate", "local")
    assert result.exit_code == 1, result.output  # a failed row blocks the run until `db repair`
    assert full_runs


def test_a_row_deleted_from_the_history_makes_its_file_pending_again(project, full_runs):
    (project / "sql" / "V6__note.sql").write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    assert len(migrate(project)["applied"]) == 1
    migrate(project)
    full_runs.clear()
    assert migrate(project)["already_applied"] == 6 and not full_runs
    sql(project, "DELETE FROM flyway_schema_history WHERE version = '6'")
    sql(project, "ALTER TABLE orders DROP COLUMN note")
    assert [s["script"] for s in migrate(project)["applied"]] == ["V6__note.sql"]
    assert full_runs


def test_the_bookkeeping_table_counts(project, full_runs):
    verified(project, full_runs)
    sql(project, "DELETE FROM flyway_schema_history_toolkit")
    assert migrate(project)["already_applied"] == 5
    assert full_runs, "a run brings the bookkeeping up to date, so it must not be skipped"


def test_a_new_file_a_renamed_file_and_a_removed_file_are_each_seen(project, full_runs):
    verified(project, full_runs)
    (project / "sql" / "V6__note.sql").write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    assert [s["script"] for s in migrate(project)["applied"]] == ["V6__note.sql"]
    assert full_runs
    verified_again = migrate(project)
    full_runs.clear()
    assert migrate(project) == verified_again and not full_runs
    (project / "sql" / "V6__note.sql").rename(project / "sql" / "V6__a_note.sql")
    result = invoke(project, "db", "migrate", "local")
    assert full_runs and result.exit_code == 0, result.output  # a new description is Flyway-valid
    full_runs.clear()
    migrate(project)
    full_runs.clear()
    (project / "sql" / "V6__a_note.sql").unlink()
    result = invoke(project, "db", "migrate", "local")
    assert result.exit_code == 1 and "6" in result.output, result.output  # applied, but its file is gone
    assert full_runs


def test_a_linked_file_whose_target_changes_is_seen(project, full_runs):
    shared = project / "sql" / "shared"
    shared.mkdir()
    target = shared / "body.txt"  # not a migration itself; reached through the link only
    target.write_text("CREATE TABLE shared_a (id int);\n")
    (project / "sql" / "V6__shared.sql").symlink_to(target)
    assert len(migrate(project)["applied"]) == 1
    full_runs.clear()
    assert migrate(project)["already_applied"] == 6
    full_runs.clear()
    assert migrate(project)["already_applied"] == 6 and not full_runs
    target.write_text("CREATE TABLE shared_b (id int);\n")  # through the link: the link itself is unchanged
    result = invoke(project, "db", "migrate", "local")
    assert result.exit_code == 1 and "V6__shared.sql" in result.output, result.output
    assert full_runs


def test_a_changed_value_reruns_the_repeatable_that_uses_it(project, full_runs):
    (project / "sql" / "R__note.sql").write_text("COMMENT ON TABLE orders IS 'project ${project}';\n")
    assert [s["script"] for s in migrate(project)["applied"]] == ["R__note.sql"]
    verified_count = migrate(project)["already_applied"]
    full_runs.clear()
    assert migrate(project)["already_applied"] == verified_count and not full_runs
    var_file = project / "tfvars" / "local.tfvars.json"
    values = json.loads(var_file.read_text())
    var_file.write_text(json.dumps({**values, "project": "demo2"}))  # no file, no setting changed: a value
    assert [s["script"] for s in migrate(project)["applied"]] == ["R__note.sql"]
    assert full_runs


def test_a_repeatable_using_the_run_timestamp_never_gets_a_verdict(project, full_runs):
    (project / "sql" / "R__stamp.sql").write_text("COMMENT ON TABLE orders IS 'at ${flyway:timestamp}';\n")
    migrate(project)
    for _ in range(2):
        full_runs.clear()
        migrate(project)
        assert full_runs, "its checksum changes with every run's timestamp"
    assert not verdict_path(project).exists()


def test_a_run_holding_the_migration_lock_makes_the_check_a_miss(project, full_runs):
    verified(project, full_runs)
    (project / "toolkit.toml").write_text(
        (project / "toolkit.toml").read_text() + "\n[migrations]\nlock_timeout_seconds = 1\n"
    )
    migrate(project)  # the changed settings: a miss, then a new verdict
    full_runs.clear()
    migrate(project)
    assert not full_runs
    from toolkit.migrations.history import HistoryTable, lock_key

    holder = connect_local(project)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (lock_key(HistoryTable("public", "flyway_schema_history")),))
        result = invoke(project, "db", "migrate", "local")
    finally:
        holder.close()
    assert result.exit_code != 0 and "holds the lock" in result.output, result.output
    assert full_runs, "while another run holds the lock the remembered answer may be stale"


def test_a_tampered_verdict_is_not_believed(project, full_runs):
    verified(project, full_runs)
    path = verdict_path(project)
    verdict = json.loads(path.read_text())
    path.write_text(json.dumps({**verdict, "applied": 999}))
    assert migrate(project)["already_applied"] == 5
    assert full_runs


def test_no_cache_and_the_environment_variable_turn_it_off(project, full_runs):
    verified(project, full_runs)
    result = invoke(project, "--no-cache", "db", "migrate", "local")
    assert result.exit_code == 0 and full_runs, result.output
    full_runs.clear()
    result = invoke(project, "db", "migrate", "local", env={"TOOLKIT_NO_CACHE": "1"})
    assert result.exit_code == 0 and full_runs, result.output


def test_a_file_written_just_now_is_not_trusted(project, full_runs, monkeypatch):
    monkeypatch.setattr(noop_verdict, "RACY_SECONDS", 3600.0)  # every file counts as just written
    for _ in range(3):
        full_runs.clear()
        migrate(project)
        assert full_runs


def test_the_command_line_runs_it_without_the_command_tree_and_says_the_same(project):
    """As a deploy job runs it, a child process: the direct path (cli/direct.py) never imports typer, and it
    prints what typer's path (a trailing `--` sends the command line there) prints, with the same exit code,
    for a result and for an error."""
    env = {**os.environ, "CI": "true"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "toolkit", "-C", str(project), *args], capture_output=True, text=True, env=env
        )

    typer_path = run("db", "migrate", "local", "--json", "--")
    direct = run("db", "migrate", "local", "--json")
    assert typer_path.returncode == direct.returncode == 0, typer_path.stderr + direct.stderr
    assert json.loads(direct.stdout) == json.loads(typer_path.stdout)
    unknown, unknown_by_typer = run("db", "migrate", "nowhere"), run("db", "migrate", "nowhere", "--")
    assert unknown.returncode == unknown_by_typer.returncode != 0
    assert unknown.stderr == unknown_by_typer.stderr and "nowhere" in unknown.stderr
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('typer imported: %s' % ('typer' in sys.modules)))\n"
        "sys.argv = ['toolkit', '-C', sys.argv[1], '-q', 'db', 'migrate', 'local']\n"
        "from toolkit.cli import main\n"
        "main()\n"
    )
    child = subprocess.run([sys.executable, "-c", probe, str(project)], capture_output=True, text=True, env=env)
    assert child.returncode == 0, child.stderr
    assert child.stdout == "0 applied now, 5 before\n"
    assert child.stderr.endswith("typer imported: False"), child.stderr


def verdict_path(project):
    from toolkit.deploy.context import Context
    from toolkit.project.loader import load_project

    ctx = Context(project=load_project(project))
    env = ctx.project.environment("local")
    return noop_verdict.verdict_file(ctx.for_database(ctx.project.databases[0]), env)


def test_the_database_asked_alongside_the_scan_is_waited_for_and_let_go_before_a_full_run(
    project, full_runs, monkeypatch
):
    """The attack: the question asked while the folder is scanned is slow (a server taking its time) and
    the scan then misses (a new file). The full run must start only after that session is closed, with
    the migration lock it took released, and apply the new file; nothing of the slow answer is used."""
    import threading
    import time

    verified(project, full_runs)
    (project / "sql" / "V6__added_later.sql").write_text("CREATE TABLE added_later (id int);\n")
    real = noop_verdict._ask
    finished = threading.Event()
    seen_at_full_run = []

    def slow_ask(*args):
        time.sleep(0.5)
        try:
            return real(*args)
        finally:
            finished.set()

    def load_migrations(ctx, real_load=validation_module.load_migrations):
        seen_at_full_run.append(finished.is_set())
        return real_load(ctx)

    monkeypatch.setattr(noop_verdict, "_ask", slow_ask)
    monkeypatch.setattr(validation_module, "load_migrations", load_migrations)
    result = migrate(project)
    assert [step["script"] for step in result["applied"]] == ["V6__added_later.sql"]
    assert seen_at_full_run == [True]
    sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    conn = connect_local(project)
    try:
        with conn.cursor() as cur:
            cur.execute(sessions)
            assert cur.fetchone()[0] == 0  # no session of the run, and so no lock, outlives it
    finally:
        conn.close()
