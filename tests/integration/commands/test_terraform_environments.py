"""Workspaces, remote state on S3 (moto server), plan bundles and their guards, ephemeral lifecycle.

Real engine (embedded Terraform), real S3 API (moto server), real PostgreSQL; provider-free stacks.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.running import Bucket, invoke, run_cli, set_run, wait_for

pytestmark = pytest.mark.slow


def test_named_environment_must_be_created_then_workspaces_keep_separate_state(s3_project, moto_endpoint):
    refused = invoke(s3_project, "env", "up", "dev")
    assert refused.exit_code == 64 and "toolkit env create dev" in refused.output, refused.output

    created = invoke(s3_project, "env", "create", "dev")
    assert created.exit_code == 0 and "workspaces created in infra" in created.stdout
    assert invoke(s3_project, "env", "up", "dev").exit_code == 0
    up = invoke(s3_project, "env", "up", "pr-7", "--branch", "feature/x")
    assert up.exit_code == 0, up.output

    assert Bucket(s3_project, moto_endpoint).outputs("dev")["greeting"] == "dev-hello-dev"
    assert Bucket(s3_project, moto_endpoint).outputs("pr-7")["greeting"] == "pr-7-hello-ephemeral"
    typo = invoke(s3_project, "env", "up", "prd")
    assert typo.exit_code == 64
    assert "unknown environment 'prd' (known: dev, prod; ephemeral: pr-<n>, eph-<slug>)" in typo.output


def test_bootstrap_is_idempotent_and_hardens_the_bucket(s3_project, moto_endpoint):
    again = invoke(s3_project, "bootstrap", "dev")
    assert again.exit_code == 0, again.output
    assert "exists; ensured versioning, encryption, public access block, conditional writes" in again.stdout
    assert "TLS-only policy skipped: the endpoint is plain HTTP" in again.stdout
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = Bucket(s3_project, moto_endpoint).name
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_plan_bundle_round_trip_and_every_refusal(s3_project, tmp_path):
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    first = tmp_path / "plan1"
    planned = invoke(s3_project, "plan", "dev", "--out", str(first), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["environment"] == "dev" and manifest["stacks"][0]["workspace"] == "dev"
    assert manifest["engine_version"].startswith("1.") and manifest["engine"] == "embedded"
    serial = manifest["stacks"][0]["serial"]
    assert "| infra | 2 | 0 | 0 | 0 |" in (first / "summary.md").read_text()

    wrong_env = invoke(s3_project, "apply", "pr-3", "--plan", str(first))
    assert wrong_env.exit_code == 3 and "made for environment 'dev', not 'pr-3'" in wrong_env.output

    tampered = tmp_path / "tampered"
    import shutil

    shutil.copytree(first, tampered)
    (tampered / "infra.tfplan").write_bytes(b"not a plan")
    refused = invoke(s3_project, "apply", "dev", "--plan", str(tampered))
    assert refused.exit_code == 3 and "saved plan file infra.tfplan is missing or was modified" in refused.output

    # migrations on disk against the plan's, before anything is applied (the state stays where it was)
    (s3_project / "sql" / "V2__late.sql").write_text("CREATE TABLE late (id int);\n")
    (s3_project / "sql" / "V1__t.sql").rename(s3_project / "V1__t.sql")
    moved = invoke(s3_project, "apply", "dev", "--plan", str(first))
    assert moved.exit_code == 3, moved.output
    assert "migration V2__late.sql was added after the plan" in moved.output
    assert "migration V1__t.sql was removed after the plan (it was reviewed to run)" in moved.output
    assert "terraform apply" not in moved.output
    (s3_project / "sql" / "V2__late.sql").unlink()
    (s3_project / "V1__t.sql").rename(s3_project / "sql" / "V1__t.sql")

    applied = invoke(s3_project, "apply", "dev", "--plan", str(first))
    assert applied.exit_code == 0, applied.output
    assert "applied infra; 1 migration(s) applied" in applied.stdout

    stale = invoke(s3_project, "apply", "dev", "--plan", str(first))
    assert stale.exit_code == 3 and f"the state moved on since the plan (serial {serial} → " in stale.output

    second = tmp_path / "plan2"
    (s3_project / "tfvars" / "dev.tfvars.json").write_text(json.dumps({"greeting": "bonjour"}))
    assert invoke(s3_project, "plan", "dev", "--out", str(second)).exit_code == 0
    (s3_project / "tfvars" / "dev.tfvars.json").write_text(json.dumps({"greeting": "hola"}))
    (s3_project / "stack" / "extra.tf").write_text('output "extra" { value = 1 }\n')
    (s3_project / "sql" / "V2__u.sql").write_text("CREATE TABLE u (id int);\n")
    changed = invoke(s3_project, "apply", "dev", "--plan", str(second))
    assert changed.exit_code == 3
    assert "var file tfvars/dev.tfvars.json changed since the plan" in changed.output
    assert "the Terraform configuration changed since the plan" in changed.output


def test_protected_environment_takes_only_reviewed_plans_without_unallowed_deletes(s3_project, tmp_path):
    up = invoke(s3_project, "env", "up", "prod")
    assert up.exit_code == 3 and "is protected: it is changed only by a reviewed plan" in up.output
    down = invoke(s3_project, "env", "down", "prod")
    assert down.exit_code == 3 and "is protected and is never destroyed" in down.output

    assert invoke(s3_project, "env", "create", "prod").exit_code == 0
    first = tmp_path / "p1"
    assert invoke(s3_project, "plan", "prod", "--out", str(first)).exit_code == 0
    assert invoke(s3_project, "apply", "prod", "--plan", str(first)).exit_code == 0

    (s3_project / "tfvars" / "prod.tfvars.json").write_text(json.dumps({"greeting": "hello-prod", "run_id": "2"}))
    replace = tmp_path / "p2"
    assert invoke(s3_project, "plan", "prod", "--out", str(replace)).exit_code == 0
    assert "replace `terraform_data.slow`" in (replace / "summary.md").read_text()
    refused = invoke(s3_project, "apply", "prod", "--plan", str(replace))
    assert refused.exit_code == 3
    assert "infra: replace terraform_data.slow is not allowed in protected environment 'prod'" in refused.output

    # manifest.json is not signed: the guard reads the saved plan itself, and refuses a manifest that lies
    import shutil

    edited = tmp_path / "p2-edited"
    shutil.copytree(replace, edited)
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["stacks"][0]["replaces"] = []
    (edited / "manifest.json").write_text(json.dumps(manifest))
    bypass = invoke(s3_project, "apply", "prod", "--plan", str(edited))
    assert bypass.exit_code == 3, bypass.output
    assert "infra: replace terraform_data.slow is not allowed in protected environment 'prod'" in bypass.output
    assert "manifest.json does not match the saved plan infra.tfplan (replaces)" in bypass.output
    allowed = invoke(s3_project, "apply", "prod", "--plan", str(replace), "--allow-destroy", "terraform_data.slow")
    assert allowed.exit_code == 0, allowed.output


def test_sensitive_values_never_reach_bundle_files_or_output(s3_project, tmp_path):
    secret = "tok-secret-0451"
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    out = tmp_path / "bundle"
    result = invoke(s3_project, "plan", "dev", "--out", str(out), "--json")
    assert result.exit_code == 0
    up = invoke(s3_project, "-v", "env", "up", "dev")
    assert up.exit_code == 0
    values = invoke(s3_project, "values", "dev", "--json")
    assert values.exit_code == 0, values.output
    shown = {v["name"]: v for v in json.loads(values.stdout)["values"]}
    assert shown["api_token"] == {
        "name": "api_token",
        "value": "***",
        "source": "tfvars/common.tfvars.json",
        "sensitive": True,
    }
    assert shown["token_digest"]["value"] == "***" and shown["token_digest"]["source"] == "output infra.token_digest"
    assert shown["greeting"]["value"] == "dev-hello-dev" and shown["environment"]["source"] == "toolkit"
    for text in (result.output, up.output, values.output):
        assert secret not in text
    for path in out.iterdir():
        if path.suffix != ".tfplan":  # the saved plan is Terraform's own (compressed) format: see docs
            assert secret not in path.read_text(), path.name
    assert "token_digest" in (out / "summary.md").read_text() and "(sensitive)" in (out / "summary.md").read_text()


def test_concurrent_applies_one_waits_or_fails_with_the_lock_holder(s3_project, moto_endpoint):
    config = s3_project / "toolkit.toml"
    config.write_text(config.read_text().replace('lock_timeout = "20s"', 'lock_timeout = "1s"'))
    assert invoke(s3_project, "env", "up", "pr-5").exit_code == 0
    set_run(s3_project, 6, "2")
    first = run_cli(s3_project, "env", "up", "pr-5")
    wait_for(first, "Provisioning with 'local-exec'")
    second = invoke(s3_project, "env", "up", "pr-5")
    assert second.exit_code == 1, second.output
    assert "the state of stack 'infra' (environment 'pr-5') is locked by" in second.output
    assert "toolkit env force-unlock pr-5 --stack infra " in second.output
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert Bucket(s3_project, moto_endpoint).outputs("pr-5")["greeting"] == "pr-5-hello-ephemeral"


def test_sigint_during_apply_releases_the_lock(s3_project):
    assert invoke(s3_project, "env", "up", "pr-6").exit_code == 0
    set_run(s3_project, 30, "3")
    proc = run_cli(s3_project, "env", "up", "pr-6")
    wait_for(proc, "Provisioning with 'local-exec'")
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "interrupted" in output and "release its state lock" in output
    set_run(s3_project, 0, "4")
    again = invoke(s3_project, "env", "up", "pr-6")
    assert again.exit_code == 0, again.output  # no force-unlock needed


def test_a_failed_apply_names_what_it_changed_before_failing(s3_project):
    set_run(s3_project, -1, "9")  # `sleep -1` fails: terraform_data.slow fails, terraform_data.app is created
    failed = invoke(s3_project, "env", "up", "pr-9")
    assert failed.exit_code == 1, failed.output
    assert "step 'terraform: infra' failed: terraform apply failed" in failed.output
    assert (
        "already changed by this run: lifecycle record of 'pr-9' written; "
        "stack infra partially applied (created terraform_data.app)" in failed.output
    )


def test_ephemeral_lifecycle_list_and_reap(s3_project, moto_endpoint):
    from toolkit.commands.environments import env_reap
    from toolkit.deploy.context import Context
    from toolkit.project.loader import load_project

    assert invoke(s3_project, "env", "name", "--from-branch", "refs/pull/8/merge").stdout.strip() == "pr-8"
    assert invoke(s3_project, "env", "up", "pr-8", "--branch", "feature/reap-me").exit_code == 0
    listed = json.loads(invoke(s3_project, "env", "list", "--json").stdout)
    row = next(r for r in listed if r["name"] == "pr-8")
    assert row["kind"] == "ephemeral" and row["ttl_seconds"] == 7200 and not row["expired"]
    assert row["branch"] == "feature/reap-me"
    created = datetime.fromisoformat(row["created_at"])
    expires = Bucket(s3_project, moto_endpoint).outputs("pr-8")["expires_at"]
    assert expires == (created + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # injected, fixed at creation

    dry = invoke(s3_project, "env", "reap", "--dry-run")
    assert dry.exit_code == 0 and "would destroy: nothing (none expired)" in dry.stdout

    ctx = Context(project=load_project(s3_project))
    later = datetime.now(UTC) + timedelta(hours=3)
    assert env_reap(ctx, dry_run=True, now=later).expired == ("pr-8",)
    result = env_reap(ctx, now=later)
    assert result.reaped == ("pr-8",) and not result.failed
    names = [r["name"] for r in json.loads(invoke(s3_project, "env", "list", "--json").stdout)]
    assert "pr-8" not in names


def test_ephemeral_environment_through_a_plan_bundle_is_recorded_and_reaped(s3_project, moto_endpoint, tmp_path):
    """plan pr-99 --out creates the workspace, so it writes the lifecycle record (as env up does); apply
    deploys with the expiry injected; env reap removes it like any other ephemeral environment."""
    from toolkit.commands.environments import env_reap
    from toolkit.deploy.context import Context
    from toolkit.project.loader import load_project

    bundle = tmp_path / "pr-99"
    planned = invoke(s3_project, "plan", "pr-99", "--out", str(bundle), "--branch", "feature/bundled")
    assert planned.exit_code == 0, planned.output
    row = next(r for r in json.loads(invoke(s3_project, "env", "list", "--json").stdout) if r["name"] == "pr-99")
    assert row["kind"] == "ephemeral" and row["branch"] == "feature/bundled"
    assert json.loads((bundle / "manifest.json").read_text())["stacks"][0]["workspace"] == "pr-99"

    applied = invoke(s3_project, "apply", "pr-99", "--plan", str(bundle))
    assert applied.exit_code == 0, applied.output
    assert "applied infra; 1 migration(s) applied" in applied.stdout
    outputs = Bucket(s3_project, moto_endpoint).outputs("pr-99")
    created = datetime.fromisoformat(row["created_at"])
    assert outputs["greeting"] == "pr-99-hello-ephemeral"
    assert outputs["expires_at"] == (created + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert invoke(s3_project, "plan", "pr-99", "--detailed-exitcode").exit_code == 0

    result = env_reap(Context(project=load_project(s3_project)), now=datetime.now(UTC) + timedelta(hours=3))
    assert result.reaped == ("pr-99",) and not result.failed
    assert "pr-99" not in [r["name"] for r in json.loads(invoke(s3_project, "env", "list", "--json").stdout)]
