"""What of the caller's environment reaches Terraform: never what changes the arguments, the variables,
the workspace or the data directory toolkit chose; checked on the environment toolkit builds, then on a
real Terraform run."""

from __future__ import annotations

import logging

import pytest

from toolkit.project.model import Backend
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.engine import base_environment, embedded_engine, split_caller_environment
from toolkit.terraform.stack import Stack

pytestmark = pytest.mark.slow


def test_argument_variable_workspace_and_data_dir_overrides_are_dropped():
    caller = {
        "PATH": "/bin",
        "AWS_PROFILE": "ci",
        "TF_CLI_ARGS": "-lock=false",
        "TF_CLI_ARGS_plan": "-destroy",
        "TF_CLI_ARGS_apply": "-auto-approve",
        "TF_VAR_instance_class": "db.r6g.16xlarge",
        "TF_VAR_environment": "prod",
        "TF_WORKSPACE": "prd",
        "TF_DATA_DIR": "/elsewhere",
        "TF_LOG": "DEBUG",
        "TF_PLUGIN_CACHE_DIR": "/cache",
        "TF_TOKEN_app_terraform_io": "t",
    }
    kept, ignored = split_caller_environment(caller)
    assert ignored == (
        "TF_CLI_ARGS",
        "TF_CLI_ARGS_apply",
        "TF_CLI_ARGS_plan",
        "TF_DATA_DIR",
        "TF_VAR_environment",
        "TF_VAR_instance_class",
        "TF_WORKSPACE",
    )
    assert kept == {
        "PATH": "/bin",
        "AWS_PROFILE": "ci",
        "TF_LOG": "DEBUG",
        "TF_PLUGIN_CACHE_DIR": "/cache",
        "TF_TOKEN_app_terraform_io": "t",
    }


def test_base_environment_drops_them_and_warns_once_naming_them(monkeypatch, caplog):
    from toolkit.terraform import engine

    monkeypatch.setattr(engine, "_warned", set())  # once per process: start this one afresh
    monkeypatch.setenv("TF_CLI_ARGS_plan", "-destroy")
    monkeypatch.setenv("TF_VAR_greeting", "from-the-shell")
    caplog.set_level(logging.WARNING, logger="toolkit")
    env = base_environment({"TF_DATA_DIR": "/d"})
    base_environment({"TF_DATA_DIR": "/d"})
    assert "TF_CLI_ARGS_plan" not in env and "TF_VAR_greeting" not in env and env["TF_DATA_DIR"] == "/d"
    warnings = [r.getMessage() for r in caplog.records if "TF_CLI_ARGS_plan" in r.getMessage()]
    assert len(warnings) == 1
    assert "TF_VAR_greeting" in warnings[0] and "from-the-shell" not in warnings[0]


STACK = """
variable "environment" { type = string }
variable "greeting" {
  type    = string
  default = "from-toolkit"
}
resource "terraform_data" "x" { input = var.greeting }
output "greeting" { value = terraform_data.x.output }
"""


def test_tf_cli_args_and_tf_var_from_the_caller_change_nothing(tmp_path, monkeypatch):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text(STACK)
    target = StackTarget(
        stack="infra",
        directory=tmp_path / "stack",
        environment="local",
        data_dir=tmp_path / "tfdata",
        backend=Backend("local"),
        backend_state_dir=tmp_path / "state",
        var_files=(),
        lock_timeout="10s",
    )
    monkeypatch.setenv("TF_CLI_ARGS_plan", "-destroy")  # would turn every plan into a destroy
    monkeypatch.setenv("TF_VAR_greeting", "from-the-shell")
    stack = Stack(embedded_engine(), target)
    stack.init()
    stack.select_workspace(create=True)
    plan = tmp_path / "up.tfplan"
    assert stack.plan(plan)  # creates terraform_data.x, not "no changes" of a destroy on nothing
    stack.apply(plan)
    assert stack.outputs()["greeting"].value == "from-toolkit"
