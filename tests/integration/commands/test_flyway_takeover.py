"""The acceptance case of a Flyway takeover: tests/golden/flyway/project (its files and flyway.conf) and a
database as Flyway left it (flyway_database.sql: objects, and the history table as Flyway writes it),
taken over with `toolkit init --from-flyway` and no file edited. Only V5 runs: the applied V3 drops a
column without any directive and is never refused, the repeatable recorded as "customer view " does not
run again, COPY data and Flyway's placeholders go in as Flyway would put them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg2
import pytest

from tests.projects import new_state_dir
from tests.running import invoke
from toolkit.migrations.checksum import flyway_checksum

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "flyway"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def connect(project: Path):
    values = json.loads((project / "tfvars" / "local.tfvars.json").read_text())
    password = (project / values["db_password_file"]).read_text().strip()
    return psycopg2.connect(
        host="127.0.0.1",
        port=values["db_port"],
        dbname=values["db_name"],
        user=values["db_username"],
        password=password,
    )


@pytest.fixture
def flyway_database(tmp_path):
    """The golden project initialised by toolkit, its local database holding what Flyway left."""
    root = tmp_path / "orders"
    shutil.copytree(GOLDEN / "project", root)
    files = tree(root)
    assert invoke(root, "init", "--from-flyway", str(root / "flyway.conf")).exit_code == 0
    state_dir = new_state_dir()  # outside pytest's temp root, which other users cannot enter
    config = root / "toolkit.toml"
    config.write_text(config.read_text().replace('state_dir = ".toolkit"', f'state_dir = "{state_dir}"'))
    # The local database comes up with no migration folder to run, then gets Flyway's database.
    (root / "sql").rename(root / "sql.flyway")
    (root / "sql").mkdir()
    first = invoke(root, "env", "up", "local")
    assert first.exit_code == 0, first.output
    conn = connect(root)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE flyway_schema_history, flyway_schema_history_toolkit")  # never touched by toolkit
        cur.execute((GOLDEN / "flyway_database.sql").read_text())
    conn.close()
    (root / "sql").rmdir()
    (root / "sql.flyway").rename(root / "sql")
    yield root, files
    invoke(root, "env", "down", "local")


def test_a_flyway_database_is_taken_over_with_no_file_edited(flyway_database):
    root, files = flyway_database
    status = invoke(root, "db", "status", "local", "--json")
    assert status.exit_code == 0, status.output
    states = {f["script"]: f["state"] for f in json.loads(status.stdout)["files"]}
    assert states == {
        "reference/V1__create_customers.sql": "baseline",  # covered by Flyway's SQL_BASELINE row
        "V2__seed_regions.sql": "applied",
        "V3__drop_legacy_note.sql": "applied",
        "V4__.sql": "applied",
        "V5__more_regions.sql": "pending",
        "R__customer_view_.sql": "applied",
    }
    assert invoke(root, "db", "validate", "local").exit_code == 0
    lint = invoke(root, "db", "lint", "local")
    assert lint.exit_code == 0, lint.output  # V3's DROP COLUMN is history there, not a refusal
    assert "V3__drop_legacy_note.sql:2: drop-column" in lint.stdout and "applied in local" in lint.stdout

    up = invoke(root, "env", "up", "local")
    assert up.exit_code == 0, up.output
    assert "migrations  1 applied now, 4 before" in up.stdout
    assert invoke(root, "db", "validate", "local").exit_code == 0
    with connect(root) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, name, source FROM regions ORDER BY code")
        assert cur.fetchall() == [
            ("apac", "Asia Pacific", "V5__more_regions.sql"),  # ${flyway:filename}
            ("eu", "Europe; West", "manual"),
            ("us", "it's America", None),
        ]
        cur.execute("SELECT installed_rank, version, description, type, script, checksum, success "
                    "FROM flyway_schema_history ORDER BY installed_rank")  # fmt: skip
        rows = cur.fetchall()
    conn.close()
    v5 = (root / "sql" / "V5__more_regions.sql").read_text()
    assert rows[-1] == (6, "5", "more regions", "SQL", "V5__more_regions.sql", flyway_checksum(v5), True)
    assert len(rows) == 6  # the repeatable did not run again
    after = tree(root)
    assert {path: after[path] for path in files} == files  # no file of the Flyway project was edited

    again = invoke(root, "env", "up", "local")
    assert again.exit_code == 0 and "migrations  0 applied now, 5 before" in again.stdout
