"""What a stack's code hash covers (and leaves out), and what it reads from outside its folder. Files only."""

from __future__ import annotations

from pathlib import Path

from tests.projects import write_local_project
from toolkit.pipelines.fingerprints import scripts_dir
from toolkit.project.loader import load_project
from toolkit.terraform.sources import external_inputs, overrides_sha256, tree_sha256


def folders(project):
    return {"glue_scripts_dir": scripts_dir(project.pipelines_dir)}  # what toolkit injects


def test_lock_and_override_files_are_not_code(tmp_path):
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text('output "x" { value = 1 }\n')
    code = tree_sha256(stack)
    assert overrides_sha256(stack) is None
    (stack / ".terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/aws" {}\n')
    (stack / "zz_toolkit_emulator_override.tf").write_text('provider "aws" {}\n')  # only while Terraform runs
    (stack / "plan.tfplan").write_bytes(b"PK")
    (stack / ".terraform").mkdir()
    (stack / ".terraform" / "terraform.tfstate").write_text("{}")
    assert tree_sha256(stack) == code
    assert overrides_sha256(stack) is None  # toolkit's own override is never the stack's
    (stack / "local_override.tf").write_text('output "x" { value = 2 }\n')
    assert tree_sha256(stack) == code and overrides_sha256(stack) is not None
    (stack / "main.tf").write_text('output "x" { value = 3 }\n')
    assert tree_sha256(stack) != code


def test_module_sources_and_glue_scripts_outside_the_stack_are_hashed(tmp_path):
    root = write_local_project(tmp_path / "p", port=5432, with_pipelines=True)
    project = load_project(root)
    stack = root / "terraform" / "local" / "pipelines"
    modules = root / "terraform" / "modules"
    (modules / "naming").mkdir(parents=True)
    (modules / "naming" / "main.tf").write_text('module "inner" {\n  source = "../shared"\n}\n')
    (modules / "shared").mkdir()
    (modules / "shared" / "main.tf").write_text('output "y" { value = 1 }\n')
    (stack / "modules.tf").write_text(
        'module "naming" {\n  source = "../../modules/naming"\n}\n'
        'module "here" {\n  source = "./inside"\n}\n'
        'module "registry" {\n  source = "hashicorp/consul/aws"\n}\n'
    )
    found = external_inputs(stack, project.root, folders(project))
    assert set(found) == {"terraform/modules/naming", "terraform/modules/shared", "pipelines/glue/scripts"}
    before = dict(found)
    (modules / "shared" / "main.tf").write_text('output "y" { value = 2 }\n')
    script = next((root / "pipelines" / "glue" / "scripts").glob("*.py"))
    script.write_text(script.read_text() + "\n# changed\n")
    after = external_inputs(stack, project.root, folders(project))
    assert {k for k in after if after[k] != before[k]} == {"terraform/modules/shared", "pipelines/glue/scripts"}
    assert (
        external_inputs(root / "terraform" / "local" / "infra", project.root, folders(project)) == {}
    )  # no glue_scripts_dir there


def test_a_missing_module_source_is_recorded_as_missing(tmp_path: Path):
    root = write_local_project(tmp_path / "p", port=5432)
    stack = root / "terraform" / "local" / "infra"
    (stack / "modules.tf").write_text('module "gone" {\n  source = "../../nowhere"\n}\n')
    assert external_inputs(stack, root, folders(load_project(root))) == {"terraform/nowhere": "missing"}
