"""Records in the state bucket are input anyone with write access to the bucket can forge: `env reap`
destroys only instances of the [ephemeral] class, whatever a record is called (moto S3, embedded
Terraform and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.running import Bucket, invoke

pytestmark = pytest.mark.slow

LONG_AGO = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds")


def _forge(bucket: Bucket, key: str, name) -> None:
    record = {"name": name, "created_at": LONG_AGO, "ttl_seconds": 60, "owner": "mallory"}
    bucket.s3.put_object(Bucket=bucket.name, Key=f"toolkit/environments/{key}.json", Body=json.dumps(record).encode())


def test_reap_never_destroys_a_named_environment_or_a_name_no_pattern_takes(s3_project, moto_endpoint, record_figure):
    bucket = Bucket(s3_project, moto_endpoint)
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    up = invoke(s3_project, "env", "up", "dev")
    assert up.exit_code == 0, up.output
    resources = bucket.state("dev")["resources"]
    assert resources
    forged = {"dev": "dev", "prod": "prod", "other": "stage-1", "newline": "pr-7\n"}
    # a record's file name and the name it holds may disagree: pr-9.json that says it is dev
    forged["pr-9"] = "dev"
    for key, name in forged.items():
        _forge(bucket, key, name)

    for _attempt in range(3):  # the records stay, so every later reap must refuse them again
        reaped = invoke(s3_project, "env", "reap")
        assert reaped.exit_code == 0, reaped.output
        assert "destroyed: nothing" in reaped.stdout, reaped.output
        assert "terraform destroy" not in reaped.output
        assert "'dev' is a named environment in toolkit.toml; only ephemeral environments are reaped" in reaped.output
        assert "'prod' is a named environment" in reaped.output
        assert "'stage-1': not reaped: the name matches no [ephemeral] pattern (pr-<n>, eph-<slug>)" in reaped.output
        assert "'pr-7\\n': not reaped: the name matches no [ephemeral] pattern" in reaped.output
        dry = invoke(s3_project, "env", "reap", "--dry-run")
        assert "would destroy: nothing" in dry.stdout, dry.output
    assert bucket.state("dev")["resources"] == resources
    record_figure("forged records", f"{len(forged)} forged lifecycle records x 3 reaps (+ dry runs): 0 destroyed")


def test_a_record_whose_name_is_not_a_string_stops_the_reap_naming_it(s3_project, moto_endpoint):
    bucket = Bucket(s3_project, moto_endpoint)
    _forge(bucket, "odd", ["dev"])
    reaped = invoke(s3_project, "env", "reap")
    assert reaped.exit_code != 0 and "terraform destroy" not in reaped.output
    assert "is not readable: its key is ['dev'], not a string" in reaped.output, reaped.output


def test_a_name_with_a_trailing_newline_is_no_environment(local_project):
    for name in ("pr-7\n", "local\n", "eph-x\n"):
        created = invoke(local_project, "env", "create", name)
        assert created.exit_code not in (0, 70) and "terraform init" not in created.output, created.output
        assert "not a valid environment name" in created.output or "unknown environment" in created.output
