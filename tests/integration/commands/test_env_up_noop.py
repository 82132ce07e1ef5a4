"""A no-op `env up` asks the database one question on one connection, and provisions a running local
server only when its login role cannot get in; anything that may need work goes to the migration engine
under its lock as before: a new file, a history row whose checksum no longer matches, a changed password
file, a dropped database. Real PostgreSQL and Terraform, through the CLI."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.running import invoke
from toolkit.adapters.postgres import server as server_module
from toolkit.deploy import migrating

pytestmark = pytest.mark.slow


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """Each time the migration engine runs and the local server is provisioned (called through)."""
    seen: list[str] = []
    real_migrate, real_provision = migrating.migrate_environment, server_module.provision

    def migrate(*args, **kwargs):
        seen.append("migrate")
        return real_migrate(*args, **kwargs)

    def provision(*args, **kwargs):
        seen.append("provision")
        return real_provision(*args, **kwargs)

    monkeypatch.setattr(migrating, "migrate_environment", migrate)
    monkeypatch.setattr(server_module, "provision", provision)
    return seen


def up(project) -> dict:
    result = invoke(project, "env", "up", "local", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_no_op_reads_the_history_once_and_provisions_nothing(local_project, calls):
    first = up(local_project)
    assert calls == ["provision", "migrate"] and len(first["migrations_applied"]) > 0
    calls.clear()
    again = up(local_project)
    assert calls == []
    assert again["migrations_applied"] == [] and again["migrations_already_applied"] == len(first["migrations_applied"])


def test_a_new_migration_goes_to_the_engine(local_project, calls):
    up(local_project)
    (local_project / "sql" / "V900__later.sql").write_text("CREATE TABLE later (id int);\n")
    calls.clear()
    result = up(local_project)
    assert calls == ["migrate"]
    assert [m["script"] for m in result["migrations_applied"]] == ["V900__later.sql"]


def test_a_history_row_that_no_longer_matches_its_file_is_refused(local_project, calls):
    result = up(local_project)
    url = result["database_url"].replace(
        "***", (local_project / ".toolkit/local/postgres/password").read_text().strip()
    )
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flyway_schema_history SET checksum = checksum + 1 WHERE installed_rank = 1")
    calls.clear()
    refused = invoke(local_project, "env", "up", "local")
    assert refused.exit_code == 1, refused.output
    assert calls == ["migrate"] and "checksum" in refused.output.lower()


def test_a_changed_password_file_is_provisioned_again(local_project, calls):
    result = up(local_project)
    password_file = local_project / ".toolkit/local/postgres/password"
    password_file.write_text("a-new-password-nobody-had\n")
    calls.clear()
    again = up(local_project)
    assert calls == ["provision"] and again["migrations_applied"] == []
    url = result["database_url"].replace("***", "a-new-password-nobody-had")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:  # the role has the file's password now
        cur.execute("SELECT 1")
