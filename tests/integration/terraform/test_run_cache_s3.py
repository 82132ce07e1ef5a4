"""The Terraform answers kept between runs for a stack whose state is in S3 (a real moto server, real
Terraform): an unchanged remote state costs no Terraform process; a state another writer changed, a
workspace removed behind our back, or outputs holding a secret come from Terraform again."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from toolkit.adapters import process
from toolkit.adapters.aws.clients import client
from toolkit.project.model import Backend
from toolkit.terraform import engine as engine_module
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.engine import Engine, resolve_engine
from toolkit.terraform.remote_state import state_object
from toolkit.terraform.stack import Stack

pytestmark = pytest.mark.slow

STACK = """
terraform {
  backend "s3" {}
}
variable "environment" { type = string }
variable "greeting" {
  type    = string
  default = "hello"
}
resource "terraform_data" "one" { input = var.greeting }
output "greeting" { value = terraform_data.one.output }
"""
SECRET = '\noutput "token" {\n  value     = "s3cr3t-${var.greeting}"\n  sensitive = true\n}\n'


@pytest.fixture
def engine() -> Engine:
    return resolve_engine("terraform") if shutil.which("terraform") else resolve_engine("embedded")


@pytest.fixture
def bucket(moto_endpoint) -> str:
    from toolkit.adapters.aws.state_bucket import bootstrap_state_bucket

    name = f"state-{uuid.uuid4().hex[:10]}"
    bootstrap_state_bucket(name, "us-east-1", endpoint=moto_endpoint)
    return name


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """Every Terraform subcommand that actually ran (the runner itself is called through)."""
    seen: list[str] = []
    real = process.run

    def spy(argv, *args, **kwargs):
        seen.append(next((a for a in argv[1:] if not a.startswith("-") and a != "-m"), argv[0]))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(process, "run", spy)
    engine_module._version_of.cache_clear()
    return seen


def make(tmp_path: Path, engine: Engine, bucket: str, endpoint: str, *, cache: bool = True, greeting: str = "hello"):
    (tmp_path / "stack").mkdir(exist_ok=True)
    main = tmp_path / "stack" / "main.tf"
    main.is_file() or main.write_text(STACK)
    values = tmp_path / f"{greeting}.tfvars.json"
    values.write_text(json.dumps({"greeting": greeting}))
    backend = Backend("s3", {"bucket": bucket, "region": "us-east-1", "endpoint": endpoint})
    target = StackTarget("infra", tmp_path / "stack", "dev", tmp_path / "data", backend, tmp_path / "state",
                         (values,), "5s")  # fmt: skip
    return Stack(engine, target, cache_folder=tmp_path / "cache" if cache else None)


def deploy(stack: Stack) -> None:
    stack.init()
    stack.select_workspace(create=True)
    plan = stack.target.data_dir.parent / "p.tfplan"
    if stack.plan(plan):
        stack.apply(plan)
    plan.unlink(missing_ok=True)


def no_op(stack: Stack) -> tuple[str, int]:
    """What a no-op `env up` asks of a stack after its plan."""
    stack.init()
    assert stack.select_existing_workspace()
    return stack.outputs()["greeting"].value, stack.state_resources()


def test_an_unchanged_remote_state_runs_no_terraform(tmp_path, engine, bucket, moto_endpoint, runs):
    deploy(make(tmp_path, engine, bucket, moto_endpoint))
    first = no_op(make(tmp_path, engine, bucket, moto_endpoint))
    runs.clear()
    engine_module._version_of.cache_clear()
    stack = make(tmp_path, engine, bucket, moto_endpoint)
    assert no_op(stack) == first == ("hello", 1)
    assert runs == []
    assert {"dev.infra.outputs", "dev.infra.resources", "workspace select"} <= set(stack.cache.hits)


def test_a_state_another_writer_changed_is_read_again(tmp_path, engine, bucket, moto_endpoint, runs):
    deploy(make(tmp_path, engine, bucket, moto_endpoint))
    no_op(make(tmp_path, engine, bucket, moto_endpoint))
    elsewhere = tmp_path / "other-checkout"
    elsewhere.mkdir()
    deploy(make(elsewhere, engine, bucket, moto_endpoint, cache=False, greeting="changed"))  # same state object
    runs.clear()
    assert no_op(make(tmp_path, engine, bucket, moto_endpoint))[0] == "changed"
    assert "output" in runs and "state" in runs  # `output -json`, `state list`


def test_a_state_object_rewritten_by_hand_is_read_again(tmp_path, engine, bucket, moto_endpoint, runs):
    """Same bytes, written again (a restore, `state push` of the same file): a new ETag or VersionId and
    LastModified, so the cached answers are not used, though they would still be right."""
    stack = make(tmp_path, engine, bucket, moto_endpoint)
    deploy(stack)
    no_op(make(tmp_path, engine, bucket, moto_endpoint))
    name, key, region, endpoint = state_object(stack.target)
    s3 = client("s3", region=region, endpoint=endpoint)
    body = s3.get_object(Bucket=name, Key=key)["Body"].read()
    s3.put_object(Bucket=name, Key=key, Body=body)
    runs.clear()
    assert no_op(make(tmp_path, engine, bucket, moto_endpoint))[0] == "hello"
    assert "output" in runs and "state" in runs


def test_a_workspace_removed_behind_our_back_is_selected_again(tmp_path, engine, bucket, moto_endpoint, runs):
    stack = make(tmp_path, engine, bucket, moto_endpoint)
    deploy(stack)
    no_op(make(tmp_path, engine, bucket, moto_endpoint))
    name, key, region, endpoint = state_object(stack.target)
    client("s3", region=region, endpoint=endpoint).delete_object(Bucket=name, Key=key)
    runs.clear()
    again = make(tmp_path, engine, bucket, moto_endpoint)
    again.init()
    again.select_existing_workspace()  # what Terraform says of it is Terraform's to say
    assert runs == ["workspace"]  # `workspace select`: asked, not taken from the data folder


def test_outputs_with_a_secret_are_never_kept(tmp_path, engine, bucket, moto_endpoint, runs):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text(STACK + SECRET)
    deploy(make(tmp_path, engine, bucket, moto_endpoint))
    no_op(make(tmp_path, engine, bucket, moto_endpoint))
    runs.clear()
    stack = make(tmp_path, engine, bucket, moto_endpoint)
    assert no_op(stack)[1] == 1
    assert runs == ["output"]  # the resource count is kept; the outputs, holding a secret, are not
    assert not any("s3cr3t" in path.read_text() for path in (tmp_path / "cache").rglob("*.json"))


def test_no_cache_runs_everything(tmp_path, engine, bucket, moto_endpoint, runs):
    deploy(make(tmp_path, engine, bucket, moto_endpoint))
    no_op(make(tmp_path, engine, bucket, moto_endpoint))
    runs.clear()
    stack = make(tmp_path, engine, bucket, moto_endpoint, cache=False)
    no_op(stack)
    assert {"init", "workspace", "output", "state"} <= set(runs) and stack.cache.hits == []
