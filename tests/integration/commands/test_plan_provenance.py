"""A saved plan is checked against the code, workspace, state and values it claims to come from, and its
summary against the reviewed one, for real (moto S3 backend, embedded Terraform and PostgreSQL). The
attacker here can rewrite every file of the bundle, manifest.json included, to match."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.running import Bucket, invoke

pytestmark = pytest.mark.slow

SNEAKY = 'resource "terraform_data" "sneaky" {\n  input = "in neither the code nor the review"\n}\n'


def _swap_plan(bundle, plan_from) -> None:
    """Put another saved plan into the bundle and make manifest.json agree with it."""
    shutil.copyfile(plan_from / "infra.tfplan", bundle / "infra.tfplan")
    manifest = json.loads((bundle / "manifest.json").read_text())
    other = json.loads((plan_from / "manifest.json").read_text())
    manifest["stacks"][0].update(
        plan_sha256=hashlib.sha256((bundle / "infra.tfplan").read_bytes()).hexdigest(),
        has_changes=other["stacks"][0]["has_changes"],
        deletes=other["stacks"][0]["deletes"],
        replaces=other["stacks"][0]["replaces"],
    )
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def _unchanged(s3_project, moto_endpoint, output, before) -> None:
    assert "terraform apply" not in output and "migration(s) applied" not in output, output
    assert sorted(Bucket(s3_project, moto_endpoint).keys()) == before


def test_a_plan_made_from_other_code_is_refused_even_with_a_matching_manifest_and_summary(
    s3_project, moto_endpoint, tmp_path
):
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    (s3_project / "stack" / "sneaky.tf").write_text(SNEAKY)
    other = tmp_path / "other"
    assert invoke(s3_project, "plan", "dev", "--out", str(other)).exit_code == 0
    (s3_project / "stack" / "sneaky.tf").unlink()
    reviewed = tmp_path / "reviewed"
    assert invoke(s3_project, "plan", "dev", "--out", str(reviewed)).exit_code == 0
    assert "terraform_data.sneaky" not in (reviewed / "summary.md").read_text()
    before = sorted(Bucket(s3_project, moto_endpoint).keys())

    swapped = tmp_path / "swapped"
    shutil.copytree(reviewed, swapped)
    _swap_plan(swapped, other)
    refused = invoke(s3_project, "apply", "dev", "--plan", str(swapped))
    assert refused.exit_code == 3, refused.output
    assert "stack 'infra': stack/sneaky.tf is in the saved plan but not in this checkout" in refused.output
    assert "summary.json (summaries) does not match what the saved plans do" in refused.output
    assert "summary.md does not match what the saved plans do" in refused.output
    _unchanged(s3_project, moto_endpoint, refused.output, before)

    # the summaries replaced too, so the bundle is consistent in itself: the code still gives it away
    for name in ("summary.json", "summary.md"):
        shutil.copyfile(other / name, swapped / name)
    summary = json.loads((swapped / "summary.json").read_text())
    (swapped / "summary.json").write_text(json.dumps({**summary, "folder": str(swapped)}))
    consistent = invoke(s3_project, "apply", "dev", "--plan", str(swapped))
    assert consistent.exit_code == 3, consistent.output
    assert "stack 'infra': stack/sneaky.tf is in the saved plan but not in this checkout" in consistent.output
    assert "does not match what the saved plans do" not in consistent.output
    _unchanged(s3_project, moto_endpoint, consistent.output, before)

    applied = invoke(s3_project, "apply", "dev", "--plan", str(reviewed))
    assert applied.exit_code == 0, applied.output
    assert "sneaky" not in json.dumps(Bucket(s3_project, moto_endpoint).state("dev"))


def test_a_plan_made_with_other_values_or_for_another_workspace_is_refused(s3_project, moto_endpoint, tmp_path):
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    dev_vars = s3_project / "tfvars" / "dev.tfvars.json"
    reviewed_vars = dev_vars.read_text()
    dev_vars.write_text(json.dumps({"greeting": "evil-greeting-4711"}))
    other_values = tmp_path / "other-values"
    assert invoke(s3_project, "plan", "dev", "--out", str(other_values)).exit_code == 0
    dev_vars.write_text(reviewed_vars)
    other_workspace = tmp_path / "other-workspace"
    assert invoke(s3_project, "plan", "pr-3", "--out", str(other_workspace)).exit_code == 0
    reviewed = tmp_path / "reviewed"
    assert invoke(s3_project, "plan", "dev", "--out", str(reviewed)).exit_code == 0
    before = sorted(Bucket(s3_project, moto_endpoint).keys())

    values = tmp_path / "values"
    shutil.copytree(reviewed, values)
    _swap_plan(values, other_values)
    refused = invoke(s3_project, "apply", "dev", "--plan", str(values))
    assert refused.exit_code == 3, refused.output
    assert "stack 'infra': variable 'greeting' was planned with another value than this checkout gives it" in (
        refused.output
    )
    assert "evil-greeting-4711" not in refused.output  # names, never values
    assert "variable 'api_token'" not in refused.output  # the sensitive one is the same: not named
    _unchanged(s3_project, moto_endpoint, refused.output, before)

    workspace = tmp_path / "workspace"
    shutil.copytree(reviewed, workspace)
    _swap_plan(workspace, other_workspace)
    refused = invoke(s3_project, "apply", "dev", "--plan", str(workspace))
    assert refused.exit_code == 3, refused.output
    assert "stack 'infra': the saved plan applies to workspace 'pr-3', not 'dev'" in refused.output
    assert "stack 'infra': variable 'environment' was planned with another value" in refused.output
    _unchanged(s3_project, moto_endpoint, refused.output, before)

    assert invoke(s3_project, "apply", "dev", "--plan", str(reviewed)).exit_code == 0


def test_a_summary_edited_after_review_is_refused(s3_project, moto_endpoint, tmp_path):
    assert invoke(s3_project, "env", "create", "dev").exit_code == 0
    reviewed = tmp_path / "reviewed"
    assert invoke(s3_project, "plan", "dev", "--out", str(reviewed)).exit_code == 0
    before = sorted(Bucket(s3_project, moto_endpoint).keys())

    markdown = tmp_path / "markdown"
    shutil.copytree(reviewed, markdown)
    text = (markdown / "summary.md").read_text()
    assert "| infra | 2 | 0 | 0 | 0 |" in text
    (markdown / "summary.md").write_text(text.replace("| infra | 2 | 0 | 0 | 0 |", "| infra | 1 | 0 | 0 | 0 |"))
    refused = invoke(s3_project, "apply", "dev", "--plan", str(markdown))
    assert refused.exit_code == 3, refused.output
    assert "summary.md does not match what the saved plans do: it was edited, or a plan swapped, after review" in (
        refused.output
    )
    assert "summary.json" not in refused.output
    _unchanged(s3_project, moto_endpoint, refused.output, before)

    edited = tmp_path / "json"
    shutil.copytree(reviewed, edited)
    summary = json.loads((edited / "summary.json").read_text())
    summary["summaries"][0]["resources"] = summary["summaries"][0]["resources"][:1]
    (edited / "summary.json").write_text(json.dumps(summary))
    refused = invoke(s3_project, "apply", "dev", "--plan", str(edited))
    assert refused.exit_code == 3, refused.output
    assert "summary.json (summaries) does not match what the saved plans do" in refused.output
    _unchanged(s3_project, moto_endpoint, refused.output, before)

    # an approval that came too late: the plan is older than --max-age (GitHub and GitLab wait forever)
    late = tmp_path / "late"
    shutil.copytree(reviewed, late)
    manifest = json.loads((late / "manifest.json").read_text())
    made = manifest["created_at"]
    manifest["created_at"] = "2020-01-01T00:00:00+00:00"
    (late / "manifest.json").write_text(json.dumps(manifest))
    too_late = invoke(s3_project, "apply", "dev", "--plan", str(late), "--max-age", "24h")
    assert too_late.exit_code == 3, too_late.output
    assert "was made at 2020-01-01T00:00:00+00:00, more than --max-age (1440 minutes) ago" in too_late.output
    _unchanged(s3_project, moto_endpoint, too_late.output, before)
    bad = invoke(s3_project, "apply", "dev", "--plan", str(reviewed), "--max-age", "soon")
    assert bad.exit_code == 64 and "--max-age: 'soon' is not a duration" in bad.output
    assert made.startswith("20")

    applied = invoke(s3_project, "apply", "dev", "--plan", str(reviewed), "--max-age", "1h")
    assert applied.exit_code == 0, applied.output
