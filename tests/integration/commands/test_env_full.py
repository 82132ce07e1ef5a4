"""The whole local environment through the CLI: infra → database → pipelines rendered → pipelines stack;
and a failure injected at each step stops the run with the step named, and a re-run completes."""

from __future__ import annotations

import json

import pytest

from tests.running import invoke
from toolkit.project.loader import load_project

pytestmark = pytest.mark.slow


def test_up_renders_and_deploys_pipelines_then_status_is_in_sync(full_local_project):
    up = invoke(full_local_project, "env", "up", "local", "--json")
    assert up.exit_code == 0, up.output
    result = json.loads(up.stdout)
    assert [s["stack"] for s in result["stacks"]] == ["infra", "pipelines"]
    assert "stepfunctions/orders_etl" in {f"stepfunctions/{n}" for n in result["pipelines_rendered"]}
    rendered = load_project(full_local_project).state_dir / "local" / "rendered" / "stepfunctions" / "orders_etl.json"
    assert "@@{" not in rendered.read_text() and "demo-local-data" in rendered.read_text()

    status = json.loads(invoke(full_local_project, "env", "status", "local", "--json").stdout)
    states = {p["name"]: p["state"] for p in status["pipelines"]}
    assert states["stepfunctions/orders_etl"] == "in sync" and set(states.values()) == {"in sync"}
    assert status["stacks"][1]["workspace_exists"] and status["stacks"][1]["resources"] > 0
    assert [s["workspace"] for s in status["stacks"]] == ["local", "local"]
    assert status["deployed_at"] and status["pipelines"][0]["deployed_fingerprint"]
    text = invoke(full_local_project, "env", "status", "local").stdout
    assert "stack       infra: workspace local, serial " in text and f"deployed    {status['deployed_at']}" in text

    tfvars = full_local_project / "tfvars" / "local.tfvars.json"
    original = tfvars.read_text()
    tfvars.write_text(json.dumps({**json.loads(original), "project": "renamed"}))
    etl = full_local_project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    etl.write_text(etl.read_text().replace('"Comment": "', '"Comment": "Changed: ', 1))
    status = json.loads(invoke(full_local_project, "env", "status", "local", "--json").stdout)
    states = {p["name"]: p["state"] for p in status["pipelines"]}
    assert states["stepfunctions/orders_etl"] == "code changed", states
    assert states["glue/orders_load"] == "values changed", states  # @@{project} only
    tfvars.write_text(original)
    etl.write_text(etl.read_text().replace('"Comment": "Changed: ', '"Comment": "', 1))

    again = invoke(full_local_project, "env", "up", "local")
    assert again.exit_code == 0 and "nothing to do" in again.stdout
    assert "pipelines: no changes, apply skipped" in again.output

    down = invoke(full_local_project, "env", "down", "local")
    assert down.exit_code == 0 and "destroyed pipelines, infra; local database removed" in down.stdout


def test_unbound_placeholder_fails_before_terraform_runs(full_local_project):
    path = full_local_project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    path.write_text(path.read_text().replace("@@{data_bucket}", "@@{missing_bucket}", 1))
    result = invoke(full_local_project, "env", "up", "local")
    assert result.exit_code == 1, result.output
    assert "step 'validate' failed: pipelines are not valid for environment 'local'" in result.output
    assert "orders_etl.asl.json" in result.output and "missing_bucket" in result.output
    assert "already changed by this run: nothing" in result.output
    assert not (load_project(full_local_project).state_dir / "state").exists()


def test_failure_at_each_later_step_names_it_and_what_changed_and_a_rerun_completes(full_local_project):
    bad_sql = full_local_project / "sql" / "V6__broken.sql"
    bad_sql.write_text("ALTER TABLE customers ADD COLUMN nickname TEXT;\nSELECT 1/0;\n")
    failed = invoke(full_local_project, "env", "up", "local")
    assert failed.exit_code == 4, failed.output
    assert "step 'database' failed: V6__broken.sql:2: migration 6 failed: division by zero" in failed.output
    assert "already changed by this run: stack infra applied" in failed.output
    bad_sql.write_text("ALTER TABLE customers ADD COLUMN nickname TEXT;\n")

    broken_tf = full_local_project / "terraform" / "local" / "pipelines" / "broken.tf"
    broken_tf.write_text('output "oops" { value = var.not_declared }\n')
    failed = invoke(full_local_project, "env", "up", "local")
    assert failed.exit_code == 1, failed.output
    assert "step 'terraform: pipelines' failed: terraform plan failed for stack 'pipelines'" in failed.output
    assert "already changed by this run: 1 migration(s) applied" in failed.output
    broken_tf.unlink()

    fixed = invoke(full_local_project, "env", "up", "local", "--json")
    assert fixed.exit_code == 0, fixed.output
    result = json.loads(fixed.stdout)
    assert result["migrations_applied"] == [] and result["migrations_already_applied"] == 6
    assert result["stacks"][1]["changed"]  # the pipelines stack is applied now
    invoke(full_local_project, "env", "down", "local")
