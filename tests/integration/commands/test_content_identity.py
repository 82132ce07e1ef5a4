"""Content identity for real (moto S3 backend, embedded PostgreSQL, embedded Terraform): a migration edited
in any way after the plan, or between qa and prod, is refused, even when Flyway's CRC32 cannot see it."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.running import Bucket, invoke

pytestmark = pytest.mark.slow

REVIEWED = b"CREATE TABLE u (id int);\n-- later, once approved:GRANT ALL ON u TO PUBLIC;\n"
ATTACKS = {
    "a commented statement moved onto its own line": REVIEWED.replace(b"approved:", b"approved:\n"),
    "a byte changed inside a comment": REVIEWED.replace(b"approved", b"approvED"),
    "LF turned into CRLF": REVIEWED.replace(b"\n", b"\r\n"),
}


def _tables(database) -> set[str]:
    conn = psycopg2.connect(
        host=database.host, port=database.port, dbname=database.name, user=database.username, password=database.password
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            return {name for (name,) in cur.fetchall()}
    finally:
        conn.close()


def test_apply_refuses_a_migration_edited_after_the_plan_in_any_byte(s3_project, moto_endpoint, database, tmp_path):
    migration = s3_project / "sql" / "V2__u.sql"
    migration.write_bytes(REVIEWED)
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    bundle = tmp_path / "bundle"
    assert invoke(s3_project, "plan", "dev", "--out", str(bundle)).exit_code == 0
    assert set(json.loads((bundle / "migrations.json").read_text())["allowed"]) == {"V1__t.sql", "V2__u.sql"}
    bucket = Bucket(s3_project, moto_endpoint)
    before = sorted(bucket.keys())

    for attack, edited in ATTACKS.items():
        migration.write_bytes(edited)
        refused = invoke(s3_project, "apply", "dev", "--plan", str(bundle))
        assert refused.exit_code == 3, (attack, refused.output)
        assert "migration V2__u.sql changed since the plan (SHA-256 " in refused.output, attack
        assert "terraform apply" not in refused.output, attack
        # nothing changed: no table, no state written (the lock taken to read the state is released)
        assert "u" not in _tables(database) and "t" not in _tables(database), attack
        assert sorted(bucket.keys()) == before, attack

    migration.write_bytes(REVIEWED)
    applied = invoke(s3_project, "apply", "dev", "--plan", str(bundle))
    assert applied.exit_code == 0, applied.output
    assert {"t", "u"} <= _tables(database)


def test_promote_check_sees_what_crc32_cannot_and_remembers_what_ran(s3_project):
    migration = s3_project / "sql" / "V2__u.sql"
    migration.write_bytes(REVIEWED)
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    assert invoke(s3_project, "env", "up", "dev").exit_code == 0
    ok = invoke(s3_project, "promote-check", "dev", "prod")
    assert ok.exit_code == 0, ok.output

    for attack, edited in ATTACKS.items():
        migration.write_bytes(edited)
        found = invoke(s3_project, "promote-check", "dev", "prod", "--json")
        assert found.exit_code == 1, (attack, found.output)
        differences = json.loads(found.stdout)["differences"]
        assert len(differences) == 1 and differences[0].startswith(
            "migration 2 (V2__u.sql) differs: dev ran bytes with SHA-256 "
        ), (attack, differences)

    # dev deployed again from the edited checkout: Flyway's checksum still matches, so nothing runs, and the
    # record keeps saying which bytes dev ran, so prod still cannot get the edited file unnoticed
    migration.write_bytes(ATTACKS["a commented statement moved onto its own line"])
    again = invoke(s3_project, "env", "up", "dev")
    assert again.exit_code == 0, again.output
    assert "0 migration(s) applied" in again.stdout or "nothing to do" in again.stdout, again.stdout
    still = invoke(s3_project, "promote-check", "dev", "prod")
    assert still.exit_code == 1 and "migration 2 (V2__u.sql) differs" in still.output, still.output
    migration.write_bytes(REVIEWED)
    assert invoke(s3_project, "promote-check", "dev", "prod").exit_code == 0


def test_old_deployment_records_and_bundles_are_refused_with_what_to_do(s3_project, moto_endpoint, tmp_path):
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    assert invoke(s3_project, "env", "up", "dev").exit_code == 0
    bucket = Bucket(s3_project, moto_endpoint)
    key = "toolkit/deployments/dev.json"
    record = json.loads(bucket.s3.get_object(Bucket=bucket.name, Key=key)["Body"].read())
    assert record["format"] == 3 and record["migrations"]["1"] == record["migrations"]["1"].lower()
    # format 2 (before several databases) is still read: the one database's record, as it was
    two = {k: v for k, v in record.items() if k not in ("databases", "first_database")}
    bucket.s3.put_object(Bucket=bucket.name, Key=key, Body=json.dumps({**two, "format": 2}).encode())
    same = invoke(s3_project, "promote-check", "dev", "dev")
    assert same.exit_code == 0, same.output
    old = {k: v for k, v in two.items() if k not in ("format", "checksums", "migrations_sha256")}
    old["migrations"] = {"1": 12345}  # a CRC32, as toolkit wrote before
    bucket.s3.put_object(Bucket=bucket.name, Key=key, Body=json.dumps(old).encode())
    refused = invoke(s3_project, "promote-check", "dev", "prod")
    assert refused.exit_code == 3, refused.output
    assert "the deployment record of 'dev' was written by an older toolkit (format 1" in refused.output
    assert "deploy dev again" in refused.output

    bundle = tmp_path / "bundle"
    assert invoke(s3_project, "plan", "dev", "--out", str(bundle)).exit_code == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "format": 2}))
    old_bundle = invoke(s3_project, "apply", "dev", "--plan", str(bundle))
    assert old_bundle.exit_code == 3, old_bundle.output
    assert "the plan bundle is format 2, this toolkit applies formats 3 to 4 only" in old_bundle.output
    assert "plan again" in old_bundle.output


def test_repeatable_migrations_are_compared_by_their_bytes_too(s3_project):
    view = s3_project / "sql" / "R__t_view.sql"
    view.write_bytes(b"CREATE OR REPLACE VIEW t_ids AS SELECT id FROM t;\n")
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    assert invoke(s3_project, "env", "up", "dev").exit_code == 0
    assert invoke(s3_project, "promote-check", "dev", "prod").exit_code == 0

    view.write_bytes(b"CREATE OR REPLACE VIEW t_ids AS SELECT id FROM t;\r\n")  # Flyway: the same checksum
    found = invoke(s3_project, "promote-check", "dev", "prod")
    assert found.exit_code == 1 and "repeatable migration R__t_view.sql differs: dev ran bytes with SHA-256 " in (
        found.output
    ), found.output
    assert invoke(s3_project, "env", "up", "dev").exit_code == 0  # runs nothing: the checksum is unchanged
    still = invoke(s3_project, "promote-check", "dev", "prod")
    assert still.exit_code == 1 and "repeatable migration R__t_view.sql differs" in still.output

    view.write_bytes(b"CREATE OR REPLACE VIEW t_ids AS SELECT id, id + 1 AS next FROM t;\n")
    assert invoke(s3_project, "env", "up", "dev").exit_code == 0  # runs again: dev now runs these bytes
    assert invoke(s3_project, "promote-check", "dev", "prod").exit_code == 0
