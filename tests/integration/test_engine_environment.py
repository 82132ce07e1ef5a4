"""The caller's TF_CLI_ARGS_* and TF_VAR_* never reach a real Terraform run."""

from __future__ import annotations

import pytest

from toolkit.project.model import Backend
from toolkit.terraform.engine import embedded_engine
from toolkit.terraform.stack import Stack, StackTarget

pytestmark = pytest.mark.slow

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
