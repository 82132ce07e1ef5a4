"""One reviewed plan for infrastructure, schema and pipelines, on the local environment."""

from __future__ import annotations

import json

import pytest

from tests.running import invoke

pytestmark = pytest.mark.slow


def test_plan_records_migrations_and_pipeline_diffs_and_apply_refuses_later_edits(full_local_project, tmp_path):
    project = full_local_project
    assert invoke(project, "env", "up", "local").exit_code == 0

    (project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    etl = project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    etl.write_text(etl.read_text().replace('"Comment": "', '"Comment": "Reviewed: ', 1))
    bundle = tmp_path / "bundle"
    planned = invoke(project, "plan", "local", "--out", str(bundle), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    summary = (bundle / "summary.md").read_text()
    assert "**migrations to apply:** `V6__add_note.sql`" in summary
    assert "- `stepfunctions/orders_etl`: code changed" in summary and '+  "Comment": "Reviewed: ' in summary
    pipelines = json.loads((bundle / "pipelines.json").read_text())
    change = pipelines["changes"]["stepfunctions/orders_etl"]
    assert change["state"] == "code changed" and change["fingerprint_before"] != change["fingerprint_after"]
    migrations = json.loads((bundle / "migrations.json").read_text())
    assert migrations["allowed"].keys() == {"V6__add_note.sql"}
    assert migrations["lint"] == {"V6__add_note.sql": {"verdict": "clean", "findings": []}}
    assert json.loads((bundle / "summary.json").read_text())["lint"] == migrations["lint"]
    assert "**migrations to apply:** `V6__add_note.sql` (lint: clean)" in summary

    (project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note VARCHAR(10);\n")
    etl.write_text(etl.read_text().replace("Reviewed: ", "Edited after review: "))
    refused = invoke(project, "apply", "local", "--plan", str(bundle))
    assert refused.exit_code == 3
    assert "migration V6__add_note.sql changed since the plan" in refused.output
    assert "pipeline stepfunctions/orders_etl changed since the plan" in refused.output

    (project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    etl.write_text(etl.read_text().replace("Edited after review: ", "Reviewed: "))
    applied = invoke(project, "apply", "local", "--plan", str(bundle))
    assert applied.exit_code == 0, applied.output
    assert "applied pipelines (unchanged: infra); 1 migration(s) applied" in applied.stdout
    again = invoke(project, "plan", "local", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    invoke(project, "env", "down", "local")


def test_apply_on_a_fresh_runner_restores_the_reviewed_rendered_pipelines(full_local_project, tmp_path):
    """The saved plan re-reads the rendered pipelines when applied: the bundle carries them, apply checks
    them against pipelines.json before changing anything, and puts them back where the plan read them."""
    import shutil

    from toolkit.project.loader import load_project

    project = full_local_project
    state_dir = load_project(project).state_dir
    assert invoke(project, "env", "up", "local").exit_code == 0
    etl = project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    etl.write_text(etl.read_text().replace('"Comment": "', '"Comment": "Reviewed: ', 1))
    (project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    deployed = (state_dir / "local" / "rendered" / "stepfunctions" / "orders_etl.json").read_text()
    assert invoke(project, "plan", "local").exit_code == 0
    assert (state_dir / "local" / "rendered" / "stepfunctions" / "orders_etl.json").read_text() == deployed
    bundle = tmp_path / "bundle"
    assert invoke(project, "plan", "local", "--out", str(bundle)).exit_code == 0
    carried = bundle / "rendered" / "stepfunctions" / "orders_etl.json"
    assert "Reviewed: " in carried.read_text()
    hashes = json.loads((bundle / "pipelines.json").read_text())["rendered"]
    assert set(hashes) == {str(p.relative_to(bundle / "rendered").with_suffix("")) for p in bundle.rglob("*/*.json")}
    # planning rendered elsewhere: what env up deployed (and compares with next time) is untouched
    assert (state_dir / "local" / "rendered" / "stepfunctions" / "orders_etl.json").read_text() == deployed

    tampered = tmp_path / "tampered"
    shutil.copytree(bundle, tampered)
    copy = tampered / "rendered" / "stepfunctions" / "orders_etl.json"
    copy.write_text(copy.read_text().replace("Reviewed: ", "Sneaked in: "))
    refused = invoke(project, "apply", "local", "--plan", str(tampered))
    assert refused.exit_code == 3, refused.output
    assert (
        "pipeline stepfunctions/orders_etl in the bundle (rendered/stepfunctions/orders_etl.json) is missing or was modified"
        in refused.output
    )
    assert "migration(s) applied" not in refused.output
    assert not list(state_dir.rglob("*.tfplan"))  # the copies checked and applied never outlive the run

    shutil.rmtree(state_dir / "local" / "rendered")  # a fresh CI runner: nothing rendered, nothing in .toolkit/bundle
    shutil.rmtree(state_dir / "local" / "bundle")
    applied = invoke(project, "apply", "local", "--plan", str(bundle))
    assert applied.exit_code == 0, applied.output
    assert "applied pipelines (unchanged: infra); 1 migration(s) applied" in applied.stdout
    assert not list(state_dir.rglob("*.tfplan"))
    assert (state_dir / "local" / "rendered" / "stepfunctions" / "orders_etl.json").read_text() == carried.read_text()
    again = invoke(project, "env", "up", "local")
    assert again.exit_code == 0, again.output
    assert "environment local: nothing to do" in again.stdout
    assert "  pipelines   6 rendered, 0 changed" in again.stdout
    invoke(project, "env", "down", "local")


def test_a_sensitive_value_is_never_rendered_into_a_bundle(full_local_project, tmp_path):
    project = full_local_project
    variables = project / "terraform" / "local" / "pipelines" / "variables.tf"
    variables.write_text(
        variables.read_text() + '\nvariable "api_token" {\n  type      = string\n  sensitive = true\n}\n'
    )
    tfvars = project / "tfvars" / "local.tfvars.json"
    tfvars.write_text(json.dumps({**json.loads(tfvars.read_text()), "api_token": "tok-never-rendered-77"}))
    etl = project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    etl.write_text(etl.read_text().replace('"Comment": "', '"Comment": "@@{api_token} ', 1))
    bundle = tmp_path / "bundle"
    refused = invoke(project, "plan", "local", "--out", str(bundle))
    assert refused.exit_code == 1, refused.output
    assert "@@{api_token} is sensitive" in refused.output and "secrets never go in pipelines" in refused.output
    assert "tok-never-rendered-77" not in refused.output
    assert not list(bundle.rglob("*.json")) if bundle.exists() else True


def test_a_fresh_environment_is_planned_in_two_phases(full_local_project, tmp_path):
    """The pipelines stack (and the pipelines it renders) read infra's outputs, which a fresh environment does
    not have yet: the first bundle holds infra and the migrations, and says the pipelines are planned next."""
    project = full_local_project
    first = tmp_path / "phase1"
    planned = invoke(project, "plan", "local", "--out", str(first), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "add 'data_bucket' to its tfvars" not in planned.output
    reason = "stack 'infra' has no state yet: it must be applied first"
    assert reason in planned.output and "**Phase 1 of 2.**" in (first / "summary.md").read_text()
    manifest = json.loads((first / "manifest.json").read_text())
    assert [s["stack"] for s in manifest["stacks"]] == ["infra"] and reason in manifest["deferred"]["pipelines"]
    assert not (first / "pipelines.tfplan").exists()

    applied = invoke(project, "apply", "local", "--plan", str(first))
    assert applied.exit_code == 0, applied.output
    assert "applied infra; 5 migration(s) applied" in applied.stdout
    assert "deferred pipelines: it reads " in applied.stdout and "plan again" in applied.stdout
    record = invoke(project, "promote-check", "local", "local")
    assert record.exit_code == 3 and "has no deployment record" in record.output  # half a deploy is not one

    second = tmp_path / "phase2"
    assert invoke(project, "plan", "local", "--out", str(second)).exit_code == 0
    assert json.loads((second / "manifest.json").read_text())["deferred"] == {}
    applied = invoke(project, "apply", "local", "--plan", str(second))
    assert applied.exit_code == 0, applied.output
    assert "applied pipelines (unchanged: infra); 0 migration(s) applied" in applied.stdout
    assert invoke(project, "plan", "local", "--detailed-exitcode").exit_code == 0
    assert invoke(project, "promote-check", "local", "local").exit_code == 0
    invoke(project, "env", "down", "local")


def test_relative_bundle_paths_as_ci_passes_them(local_project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    planned = invoke(local_project, "plan", "local", "--out", "bundle-local")
    assert planned.exit_code == 0, planned.output
    assert (tmp_path / "bundle-local" / "infra.tfplan").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle-local", "project"]  # nothing partial beside
    assert json.loads((tmp_path / "bundle-local" / "summary.json").read_text())["folder"] == str(
        tmp_path / "bundle-local"
    )
    applied = invoke(local_project, "apply", "local", "--plan", "bundle-local")
    assert applied.exit_code == 0, applied.output
    invoke(local_project, "env", "down", "local")
