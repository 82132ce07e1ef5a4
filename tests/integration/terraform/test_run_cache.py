"""The Terraform answers kept between runs (version, init, workspace select, outputs, resources): an
unchanged stack costs no Terraform process, and each key, changed alone, makes its answer come from
Terraform again. Real Terraform (the binary on PATH, else the embedded engine), a local backend."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from toolkit.adapters import process
from toolkit.errors import EngineError
from toolkit.project.model import Backend
from toolkit.terraform import engine as engine_module
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.engine import Engine, resolve_engine
from toolkit.terraform.run_cache import engine_identity
from toolkit.terraform.stack import Stack

pytestmark = pytest.mark.slow

STACK = """
variable "environment" { type = string }
variable "greeting" {
  type    = string
  default = "hello"
}
resource "terraform_data" "one" { input = var.greeting }
output "greeting" { value = terraform_data.one.output }
"""


@pytest.fixture
def engine() -> Engine:
    return resolve_engine("terraform") if shutil.which("terraform") else resolve_engine("embedded")


@pytest.fixture
def runs(monkeypatch) -> list[list[str]]:
    """Every Terraform subcommand that actually ran (the runner itself is called through)."""
    seen: list[list[str]] = []
    real = process.run

    def spy(argv, *args, **kwargs):
        seen.append([a for a in argv if not a.startswith("-")][-1:] or argv)
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(process, "run", spy)
    engine_module._version_of.cache_clear()
    return seen


def make(tmp_path: Path, engine: Engine, *, cache: bool = True, var_files: tuple[Path, ...] = ()) -> Stack:
    (tmp_path / "stack").mkdir(exist_ok=True)
    (tmp_path / "stack" / "main.tf").is_file() or (tmp_path / "stack" / "main.tf").write_text(STACK)
    target = StackTarget(
        "infra", tmp_path / "stack", "dev", tmp_path / "data", Backend("local"), tmp_path / "state", var_files, "5s"
    )
    return Stack(engine, target, cache_folder=tmp_path / "cache" if cache else None)


def deploy(tmp_path: Path, engine: Engine, greeting: str = "hello") -> None:
    values = tmp_path / f"{greeting}.tfvars.json"
    values.write_text(json.dumps({"greeting": greeting}))
    stack = make(tmp_path, engine, var_files=(values,))
    stack.init()
    stack.select_workspace(create=True)
    plan = tmp_path / "p.tfplan"
    if stack.plan(plan):
        stack.apply(plan)


def no_op(stack: Stack) -> tuple[str, int]:
    """What `db migrate` and a no-op `env up` ask of a stack."""
    stack.init()
    assert stack.select_existing_workspace()
    return stack.outputs()["greeting"].value, stack.state_resources()


def test_an_unchanged_stack_runs_no_terraform_and_answers_the_same(tmp_path, engine, runs):
    deploy(tmp_path, engine)
    first = no_op(make(tmp_path, engine))
    runs.clear()
    engine_module._version_of.cache_clear()
    stack = make(tmp_path, engine)
    assert no_op(stack) == first == ("hello", 1)
    assert runs == []
    assert set(stack.cache.hits) == {"engine-version", "dev.infra.init", "workspace select", "dev.infra.outputs",
                                     "dev.infra.resources"}  # fmt: skip


def test_another_writer_bumping_the_serial_is_seen(tmp_path, engine, runs):
    deploy(tmp_path, engine)
    no_op(make(tmp_path, engine))
    deploy(tmp_path, engine, "changed")  # another run applies: same lineage, next serial
    runs.clear()
    assert no_op(make(tmp_path, engine))[0] == "changed"
    assert ["output"] in runs and ["list"] in runs


def test_a_changed_lock_file_or_stack_file_runs_init_again(tmp_path, engine, runs):
    deploy(tmp_path, engine)
    no_op(make(tmp_path, engine))
    for change in ("lock", "tf"):
        if change == "lock":
            (tmp_path / "stack" / ".terraform.lock.hcl").write_text("# providers: none\n")
        else:
            with (tmp_path / "stack" / "main.tf").open("a") as handle:
                handle.write('\noutput "extra" { value = 1 }\n')
        runs.clear()
        stack = make(tmp_path, engine)
        stack.init()
        assert ["init"] in runs, change
        runs.clear()
        make(tmp_path, engine).init()
        assert ["init"] not in runs, change  # and recorded again after it ran


def test_a_removed_data_folder_runs_init_and_select_again(tmp_path, engine, runs):
    deploy(tmp_path, engine)
    no_op(make(tmp_path, engine))
    shutil.rmtree(tmp_path / "data")
    runs.clear()
    assert no_op(make(tmp_path, engine))[0] == "hello"
    assert ["init"] in runs and ["dev"] in runs  # init, then `workspace select dev`


def test_another_selected_workspace_is_selected_again(tmp_path, engine, runs):
    deploy(tmp_path, engine)
    no_op(make(tmp_path, engine))
    (tmp_path / "data" / "environment").write_text("default")
    runs.clear()
    no_op(make(tmp_path, engine))
    assert ["dev"] in runs  # `workspace select dev`
    assert (tmp_path / "data" / "environment").read_text().strip() == "dev"


def test_no_cache_runs_everything(tmp_path, engine, runs):
    deploy(tmp_path, engine)
    no_op(make(tmp_path, engine))
    runs.clear()
    stack = make(tmp_path, engine, cache=False)
    no_op(stack)
    assert len(runs) >= 4 and stack.cache.hits == []


@pytest.mark.skipif(not shutil.which("terraform"), reason="needs the terraform binary")
def test_the_version_is_keyed_by_the_binary_and_never_kept_for_a_shim(tmp_path, runs):
    real = shutil.which("terraform")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    link = bin_dir / "terraform"
    link.symlink_to(real)
    engine = Engine("terraform", (str(link),))
    deploy(tmp_path, engine)
    key = engine_identity(engine.argv)
    assert key is not None
    # The recorded answer is what the check uses: make it an old version, and the same binary is refused.
    cache = tmp_path / "cache" / "engine-version.json"
    recorded = json.loads(cache.read_text())
    cache.write_text(json.dumps({**recorded, "value": "1.5.0"}))
    engine_module._version_of.cache_clear()
    with pytest.raises(EngineError, match="1.5.0"):
        make(tmp_path, engine).init()
    # Another binary under the same name (a version manager switching its symlink): asked again.
    copy = bin_dir / "terraform-copy" / "terraform"
    copy.parent.mkdir()
    shutil.copy2(real, copy)
    link.unlink()
    link.symlink_to(copy)
    assert engine_identity(engine.argv) != key
    engine_module._version_of.cache_clear()
    runs.clear()
    make(tmp_path, engine).init()
    assert ["version"] in runs
    # A script shim (tfenv, asdf) picks the version from the folder or the environment: never kept.
    shim = bin_dir / "shim" / "terraform"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    assert engine_identity((str(shim),)) is None
