"""The argv toolkit hands Terraform: pure functions, checked without running anything."""

from __future__ import annotations

from pathlib import Path

from toolkit.project.model import Backend
from toolkit.terraform.argv import (
    StackTarget,
    apply_argv,
    init_argv,
    plan_argv,
    workspace_delete_argv,
    workspace_new_argv,
)
from toolkit.terraform.engine import base_environment


def target(backend: Backend) -> StackTarget:
    return StackTarget(
        stack="infra",
        directory=Path("/p/terraform/aws/infra"),
        environment="qa",
        data_dir=Path("/p/.toolkit/qa/infra/tfdata"),
        backend=backend,
        backend_state_dir=Path("/p/.toolkit/state/infra"),
        var_files=(Path("/p/tfvars/common.tfvars.json"), Path("/p/tfvars/qa.tfvars.json")),
        lock_timeout="5m",
    )


def test_plan_passes_var_files_in_order_then_the_environment():
    argv = plan_argv(target(Backend("local")), Path("/tmp/x.tfplan"))
    assert argv[:3] == ["-chdir=/p/terraform/aws/infra", "plan", "-input=false"]
    assert "-detailed-exitcode" in argv and "-lock-timeout=5m" in argv and "-out=/tmp/x.tfplan" in argv
    assert argv[-3:] == [
        "-var-file=/p/tfvars/common.tfvars.json",
        "-var-file=/p/tfvars/qa.tfvars.json",
        "-var=environment=qa",
    ]
    assert "-destroy" in plan_argv(target(Backend("local")), Path("/x"), destroy=True)


def test_apply_applies_the_saved_plan_only():
    argv = apply_argv(target(Backend("local")), Path("/tmp/x.tfplan"))
    assert argv[-1] == "/tmp/x.tfplan" and "-auto-approve" not in argv and "-lock-timeout=5m" in argv


def test_local_backend_keeps_state_under_the_state_dir():
    argv = init_argv(target(Backend("local")))
    assert "-backend-config=path=/p/.toolkit/state/infra/terraform.tfstate" in argv
    assert "-backend-config=workspace_dir=/p/.toolkit/state/infra/workspaces" in argv


def test_s3_backend_uses_a_lockfile_and_encryption():
    argv = init_argv(target(Backend("s3", {"bucket": "b", "region": "eu-west-1"})))
    assert {
        "-backend-config=bucket=b",
        "-backend-config=region=eu-west-1",
        "-backend-config=key=infra.tfstate",
        "-backend-config=use_lockfile=true",
        "-backend-config=encrypt=true",
    } <= set(argv)
    assert not any("endpoints" in a for a in argv)


def test_s3_backend_against_a_local_endpoint():
    argv = init_argv(target(Backend("s3", {"bucket": "b", "region": "us-east-1"})), "http://127.0.0.1:5000")
    assert '-backend-config=endpoints={s3="http://127.0.0.1:5000"}' in argv
    assert "-backend-config=use_path_style=true" in argv


def test_tf_workspace_is_never_passed_on(monkeypatch):
    monkeypatch.setenv("TF_WORKSPACE", "prd")
    env = base_environment({"TF_DATA_DIR": "/d"})
    assert "TF_WORKSPACE" not in env and env["TF_DATA_DIR"] == "/d" and env["TF_IN_AUTOMATION"] == "1"


def test_workspace_new_and_delete_take_the_lock_timeout():
    # Both write the workspace's state, so they wait for its lock as long as plan and apply do.
    qa = target(Backend("s3", {"bucket": "b", "region": "us-east-1"}))
    assert workspace_new_argv(qa) == ["-chdir=/p/terraform/aws/infra", "workspace", "new", "-lock-timeout=5m", "qa"]
    assert workspace_delete_argv(qa) == [
        "-chdir=/p/terraform/aws/infra",
        "workspace",
        "delete",
        "-lock-timeout=5m",
        "qa",
    ]
