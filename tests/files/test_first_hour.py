"""The defects a new user hits in the first hour (issue 17, section 3), each reproduced from the CLI with
its exit code and output. Files only: none of these runs Terraform or a database (those are in
tests/integration/commands/test_first_hour_services.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.running import invoke


def test_status_before_the_first_deploy_says_so_instead_of_twenty_unbound_errors(full_local_project):
    result = invoke(full_local_project, "env", "status", "local")
    assert result.exit_code == 0, result.output
    assert "is not bound" not in result.output
    assert "  stack       infra: not created" in result.stdout
    assert "  migrations  none applied: the environment is not up (toolkit env up local)" in result.stdout
    assert "  pipeline    stepfunctions/orders_etl: not deployed" in result.stdout
    document = json.loads(invoke(full_local_project, "env", "status", "local", "--json").stdout)
    assert {p["state"] for p in document["pipelines"]} == {"not deployed"}
    assert all(p["repo_fingerprint"] for p in document["pipelines"])  # the code is known without values


def test_a_typo_in_an_environments_directive_is_an_error_naming_the_file_and_the_known_ones(full_local_project):
    (full_local_project / "sql" / "V6__fixtures.sql").write_text(
        "-- test data\n-- toolkit:environments=lcoal,prdo\nINSERT INTO customers (email) VALUES ('a@b.c');\n"
    )
    expected = "V6__fixtures.sql:2: toolkit:environments names lcoal, prdo, which no environment is (known: local)"
    for args in (("db", "lint"), ("env", "status", "local"), ("env", "up", "local")):
        result = invoke(full_local_project, *args)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output, args


def test_patterns_in_an_environments_directive_must_be_able_to_match(local_project):
    config = local_project / "toolkit.toml"
    config.write_text(
        config.read_text()
        + '\n[ephemeral]\npatterns = ["pr-<n>"]\nstacks = { infra = "terraform/local/infra" }\n'
        + 'backend = { type = "local" }\nvar_files = ["local.tfvars.json"]\n'
    )
    (local_project / "sql" / "V6__x.sql").write_text("-- toolkit:environments=loc*,pr-*,pr-12\nSELECT 1;\n")
    assert invoke(local_project, "db", "lint").exit_code == 0
    (local_project / "sql" / "V6__x.sql").write_text("-- toolkit:environments=qa-*,eph-x\nSELECT 1;\n")
    result = invoke(local_project, "db", "lint")
    assert result.exit_code == 1
    assert "names qa-*, eph-x, which no environment is (known: local; ephemeral: pr-<n>)" in result.output


def test_a_closed_pipe_ends_the_command_quietly(full_local_project):
    """`toolkit pipelines fingerprint | head -1`: the reader has gone before toolkit writes."""
    read, write = os.pipe()
    os.close(read)  # nobody will ever read: the first write fails with EPIPE
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(full_local_project), "pipelines", "fingerprint", "--json"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no "internal error: BrokenPipeError", no "Exception ignored"


def test_doctor_fails_on_a_broken_toolkit_toml_or_an_unknown_engine(local_project):
    config = local_project / "toolkit.toml"
    good = config.read_text()
    config.write_text(good + '\n[terraform]\nengine = "terraformm"\n')
    result = invoke(local_project, "doctor")
    assert result.exit_code == 3, result.output
    assert "--  toolkit.toml" in result.stdout and "unknown engine 'terraformm'" in result.stdout
    config.write_text(good + "\n[[[ not toml\n")
    result = invoke(local_project, "doctor", "--json")
    assert result.exit_code == 3
    check = json.loads(result.stdout)["checks"][0]
    assert check["name"] == "toolkit.toml" and check["ok"] is False and "not valid TOML" in check["detail"]
    config.write_text(good)
    assert json.loads(invoke(local_project, "doctor", "--json").stdout)["checks"][0]["ok"] is True


def test_values_keep_their_json_types(local_project):
    result = invoke(local_project, "values", "local", "--json")
    assert result.exit_code == 0, result.output
    values = {v["name"]: v["value"] for v in json.loads(result.stdout)["values"]}
    assert isinstance(values["db_port"], int) and values["db_name"] == "demo"
    text = invoke(local_project, "values", "local").stdout
    assert f"db_port           {values['db_port']}    (tfvars/local.tfvars.json)" in text


def test_the_documented_exit_codes_hold(full_local_project):
    assert invoke(full_local_project, "pipelines", "graph", "no_such_pipeline").exit_code == 64  # docs/pipelines.md
    lint = invoke(full_local_project, "db", "lint", "local")  # README: `db lint [ENV]`
    assert lint.exit_code == 0, lint.output
    # a missing workspace is a usage error (64) wherever it is found
    for args, message in (
        (("db", "status", "local"), "environment 'local' has no workspace in stack 'infra'"),
        (("db", "migrate", "local"), "environment 'local' has no workspace in stack 'infra'"),
        (("pipelines", "render", "local"), "stack 'infra' has no state in 'local' yet"),
    ):
        result = invoke(full_local_project, *args)
        assert result.exit_code == 64, (args, result.output)
        assert message in result.output


def test_every_toolkit_toml_problem_is_reported_at_once(local_project):
    config = local_project / "toolkit.toml"
    config.write_text(
        config.read_text().replace(
            "[environments.local]", '[terraform]\nengine = "terraformm"\ncolour = 1\n\n[environments.local]'
        )
        + 'shape = "round"\nprotected = "yes"\n'
    )
    result = invoke(local_project, "env", "status", "local", "--json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["message"].startswith(f"{config}: 4 problems:\n  - {config}:environments.local.protected:")
    assert [p.split("\n")[0].removeprefix(f"{config}:") for p in error["problems"]] == [
        "environments.local.protected: must be true or false, not 'yes'",
        "environments.local.shape: unknown key",
        "terraform.colour: unknown key",
        "terraform.engine: unknown engine 'terraformm'",
    ]
    assert "hint: fix each of them, then run again" in result.stderr


def test_pipelines_validate_never_says_ok_while_failing(full_local_project):
    machine = full_local_project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    definition = json.loads(machine.read_text())
    definition["StartAt"] = "NoSuchState"
    machine.write_text(json.dumps(definition, indent=2))
    result = invoke(full_local_project, "pipelines", "validate")
    assert result.exit_code == 1
    assert "ok validate pipelines" not in result.output and "NoSuchState" in result.stdout


def test_a_never_deployed_local_environment_is_known_without_terraform_in_either_state_layout(local_project):
    from toolkit.deploy.context import Context
    from toolkit.deploy.stacks import never_deployed
    from toolkit.project.loader import load_project

    ctx = Context(load_project(local_project))
    env = ctx.project.environment("local")
    assert never_deployed(ctx, env, "infra")
    # a stack with no backend block keeps Terraform's own layout, in its folder
    (env.stack_dir("infra") / "terraform.tfstate.d" / "local").mkdir(parents=True)
    assert not never_deployed(ctx, env, "infra")
    (env.stack_dir("infra") / "terraform.tfstate.d" / "local").rmdir()
    ctx.paths.local_workspace("infra", "local").mkdir(parents=True)
    assert not never_deployed(ctx, env, "infra")
