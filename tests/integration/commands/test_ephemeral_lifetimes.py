"""Ephemeral lifetimes follow use, for real (moto S3 backend, embedded Terraform and PostgreSQL): every
env up, plan and apply renews the TTL; env extend sets a longer one; env reap destroys only what is idle,
never an environment whose state lock a running job holds, and names each environment it works on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.running import Bucket, invoke, run_cli, set_run, wait_for
from toolkit.commands.environments import env_reap
from toolkit.deploy.context import Context
from toolkit.project.loader import load_project

pytestmark = pytest.mark.slow


def _record(bucket: Bucket, name: str) -> dict:
    return json.loads(bucket.s3.get_object(Bucket=bucket.name, Key=f"toolkit/environments/{name}.json")["Body"].read())


def _age(bucket: Bucket, name: str, hours: float) -> None:
    """Make the environment's record say it was created and last used `hours` ago."""
    record = _record(bucket, name)
    then = datetime.now(UTC) - timedelta(hours=hours)
    tagged = (then + timedelta(seconds=record["ttl_seconds"])).isoformat(timespec="seconds")
    record.update(created_at=then.isoformat(timespec="seconds"), last_used_at=then.isoformat(timespec="seconds"))
    record.update(tagged_expires_at=tagged)
    bucket.s3.put_object(Bucket=bucket.name, Key=f"toolkit/environments/{name}.json", Body=json.dumps(record).encode())


def _names(project) -> list[str]:
    return [row["name"] for row in json.loads(invoke(project, "env", "list", "--json").stdout)]


def test_an_environment_used_within_its_ttl_is_kept_and_an_idle_one_is_reaped(s3_project, moto_endpoint, tmp_path):
    bucket = Bucket(s3_project, moto_endpoint)
    for name in ("pr-21", "pr-22", "pr-23"):
        assert invoke(s3_project, "env", "up", name, env={"TOOLKIT_OWNER": "alice"}).exit_code == 0
        _age(bucket, name, 3)  # past the 2h TTL, counted from creation or from last use
    tagged = bucket.outputs("pr-21")["expires_at"]

    used = invoke(s3_project, "env", "up", "pr-21", env={"TOOLKIT_OWNER": "bob"})  # a push to the pull request
    assert used.exit_code == 0, used.output
    record = _record(bucket, "pr-21")
    assert record["owner"] == "alice" and record["last_used_by"] == "bob" and record["last_use"] == "env up"
    assert datetime.fromisoformat(record["last_used_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert bucket.outputs("pr-21")["expires_at"] != tagged  # the tag was due: more than half the TTL had passed
    planned = invoke(s3_project, "plan", "pr-22", "--out", str(tmp_path / "b"), env={"TOOLKIT_OWNER": "carol"})
    assert planned.exit_code == 0, planned.output
    assert _record(bucket, "pr-22")["last_use"] == "plan" and _record(bucket, "pr-22")["last_used_by"] == "carol"

    listed = {row["name"]: row for row in json.loads(invoke(s3_project, "env", "list", "--json").stdout)}
    assert not listed["pr-21"]["expired"] and not listed["pr-22"]["expired"] and listed["pr-23"]["expired"]
    assert listed["pr-21"]["last_used_by"] == "bob"

    reaped = invoke(s3_project, "env", "reap")
    assert reaped.exit_code == 0, reaped.output
    assert "destroyed: pr-23" in reaped.stdout
    assert "pr-23: expired at " in reaped.output and "last used " in reaped.output and "destroying" in reaped.output
    assert "terraform destroy: infra of pr-23" in reaped.output
    assert "pr-21" not in reaped.output and "pr-22" not in reaped.output
    names = _names(s3_project)
    assert "pr-21" in names and "pr-22" in names and "pr-23" not in names
    # used again right away: nothing to do, the tag is not renewed on every use
    assert invoke(s3_project, "env", "up", "pr-21").exit_code == 0
    assert invoke(s3_project, "plan", "pr-21", "--detailed-exitcode").exit_code == 0


def test_env_extend_keeps_an_environment_longer_and_refuses_what_it_cannot_extend(s3_project, moto_endpoint):
    bucket = Bucket(s3_project, moto_endpoint)
    assert invoke(s3_project, "env", "up", "pr-31").exit_code == 0
    extended = invoke(s3_project, "env", "extend", "pr-31", "--ttl", "7d", env={"TOOLKIT_OWNER": "dana"})
    assert extended.exit_code == 0, extended.output
    assert "pr-31 now expires at " in extended.stdout and "(TTL 7d0h from each use)" in extended.stdout
    record = _record(bucket, "pr-31")
    assert (
        record["ttl_seconds"] == 7 * 86400 and record["last_use"] == "env extend" and record["last_used_by"] == "dana"
    )
    ctx = Context(project=load_project(s3_project))
    assert env_reap(ctx, dry_run=True, now=datetime.now(UTC) + timedelta(days=3)).expired == ()
    assert env_reap(ctx, dry_run=True, now=datetime.now(UTC) + timedelta(days=8)).expired == ("pr-31",)

    named = invoke(s3_project, "env", "extend", "dev")
    assert named.exit_code == 64 and "'dev' is a named environment: only ephemeral environments expire" in named.output
    missing = invoke(s3_project, "env", "extend", "pr-32")
    assert missing.exit_code == 3 and "'pr-32' has no lifecycle record" in missing.output
    bad = invoke(s3_project, "env", "extend", "pr-31", "--ttl", "forever")
    assert bad.exit_code == 64 and "--ttl: 'forever' is not a duration" in bad.output


def test_reap_never_destroys_an_environment_whose_state_lock_a_running_job_holds(s3_project, moto_endpoint):
    assert invoke(s3_project, "env", "up", "pr-41").exit_code == 0
    set_run(s3_project, 8, "2")
    job = run_cli(s3_project, "env", "up", "pr-41")
    try:
        wait_for(job, "Provisioning with 'local-exec'")
        ctx = Context(project=load_project(s3_project))
        later = datetime.now(UTC) + timedelta(hours=3)  # expired whatever the job renewed
        held = env_reap(ctx, now=later)
        assert held.expired == ("pr-41",) and held.reaped == () and not held.failed
        assert len(held.skipped) == 1 and held.skipped[0].startswith(
            "pr-41: the state of stack 'infra' is locked (lock "
        ), held.skipped
        assert "for OperationTypeApply" in held.skipped[0] and "a job is using it" in held.skipped[0]
        assert Bucket(s3_project, moto_endpoint).locks()
    finally:
        output, _ = job.communicate(timeout=120)
    assert job.returncode == 0, output
    assert Bucket(s3_project, moto_endpoint).outputs("pr-41")["greeting"] == "pr-41-hello-ephemeral"
    reaped = env_reap(Context(project=load_project(s3_project)), now=datetime.now(UTC) + timedelta(hours=3))
    assert reaped.reaped == ("pr-41",) and reaped.skipped == ()
