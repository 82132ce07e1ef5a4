"""Every Terraform command that writes a state waits for its lock as long as plan and apply do."""

from __future__ import annotations

from pathlib import Path

from toolkit.project.model import Backend
from toolkit.terraform.argv import workspace_delete_argv, workspace_new_argv
from toolkit.terraform.stack import StackTarget

TARGET = StackTarget(
    stack="infra",
    directory=Path("/p/stack"),
    environment="pr-7",
    data_dir=Path("/p/.toolkit/pr-7/infra/tfdata"),
    backend=Backend("s3", {"bucket": "b", "region": "us-east-1"}),
    backend_state_dir=Path("/p/.toolkit/state/infra"),
    var_files=(),
    lock_timeout="7m",
)


def test_workspace_new_and_delete_take_the_lock_timeout():
    assert workspace_new_argv(TARGET) == ["-chdir=/p/stack", "workspace", "new", "-lock-timeout=7m", "pr-7"]
    assert workspace_delete_argv(TARGET) == ["-chdir=/p/stack", "workspace", "delete", "-lock-timeout=7m", "pr-7"]
