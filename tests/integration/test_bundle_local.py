"""One reviewed plan for infrastructure, schema and pipelines, on the local environment."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from toolkit.cli import app

pytestmark = pytest.mark.slow


def invoke(project, *args):
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", *args])
    assert "Traceback" not in result.output
    return result


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
    assert json.loads((bundle / "migrations.json").read_text())["allowed"].keys() == {"V6__add_note.sql"}

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
