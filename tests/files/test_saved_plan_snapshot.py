"""Reading what a saved plan says it was made from (`bundle/snapshot.py`) on .tfplan-shaped zips written
here: the configuration snapshot against a folder, toolkit's generated files, the backend workspace and
state, and the values a plan was made with."""

from __future__ import annotations

import json
import zipfile

import pytest

from toolkit.bundle.snapshot import code_problems, read_saved_plan, state_problems, variable_problems


def _proto(number: int, payload: bytes) -> bytes:
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def _plan(path, files: dict[str, bytes], *, workspace="dev", lineage="lin-1", serial=3, modules=None):
    backend = _proto(1, b"s3") + _proto(2, b"\x80") + _proto(3, workspace.encode())
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tfplan", bytes([8, 3]) + _proto(13, backend) + _proto(14, b"1.15.5"))
        archive.writestr("tfstate", json.dumps({"lineage": lineage, "serial": serial}))
        modules = modules or [{"Key": "", "Dir": "."}]
        archive.writestr("tfconfig/modules.json", json.dumps(modules))
        for name, data in files.items():
            archive.writestr(f"tfconfig/{name}", data)
    return read_saved_plan(path)


@pytest.fixture
def project(tmp_path):
    stack = tmp_path / "stack"
    (tmp_path / "modules" / "m").mkdir(parents=True)
    stack.mkdir()
    (stack / "main.tf").write_bytes(b'module "m" { source = "../modules/m" }\n')
    (stack / "README.md").write_text("not code\n")
    (stack / ".hidden.tf").write_text("ignored by Terraform\n")
    (tmp_path / "modules" / "m" / "main.tf").write_bytes(b'resource "terraform_data" "x" {}\n')
    return tmp_path


MODULES = [{"Key": "", "Dir": "."}, {"Key": "m", "Source": "../modules/m", "Dir": "../modules/m"}]


def _files(project):
    return {
        "m-/main.tf": (project / "stack" / "main.tf").read_bytes(),
        "m-m/main.tf": (project / "modules" / "m" / "main.tf").read_bytes(),
    }


def test_the_same_code_passes_and_every_difference_is_named(project, tmp_path):
    stack = project / "stack"
    saved = _plan(tmp_path / "a.tfplan", _files(project), modules=MODULES)
    assert saved.workspace == "dev" and saved.backend == "s3" and (saved.lineage, saved.serial) == ("lin-1", 3)
    assert code_problems(saved, stack, project, stack / ".terraform.lock.hcl", {}) == []

    (project / "modules" / "m" / "main.tf").write_bytes(b'resource "terraform_data" "x" {}\r\n')  # CRLF only
    (stack / "extra.tf.json").write_text("{}")
    found = code_problems(saved, stack, project, stack / ".terraform.lock.hcl", {})
    assert found[0] == "stack/extra.tf.json is not in the saved plan: it was planned without it"
    assert found[1].startswith("modules/m/main.tf differs from the one planned (SHA-256 ") and len(found) == 2

    files = {**_files(project), "m-/gone.tf": b"x"}
    saved = _plan(tmp_path / "b.tfplan", files, modules=MODULES)
    (stack / "extra.tf.json").unlink()
    assert code_problems(saved, stack, project, stack / "none", {}) == [
        "stack/gone.tf is in the saved plan but not in this checkout"
    ]


def test_toolkits_emulator_override_must_be_what_toolkit_writes_now(project, tmp_path):
    stack = project / "stack"
    name = "zz_toolkit_emulator_override.tf"
    saved = _plan(tmp_path / "a.tfplan", {**_files(project), f"m-/{name}": b"override"}, modules=MODULES)
    lock = stack / ".terraform.lock.hcl"
    assert code_problems(saved, stack, project, lock, {name: b"override"}) == []
    wrong = f"stack/{name} (which toolkit writes while Terraform runs) is not in the saved plan as toolkit would write it now"
    assert code_problems(saved, stack, project, lock, {name: b"other endpoint"}) == [wrong]
    assert code_problems(saved, stack, project, lock, {name: None}) == [wrong]  # planned in emulator mode
    plain = _plan(tmp_path / "b.tfplan", _files(project), modules=MODULES)
    assert code_problems(plain, stack, project, lock, {name: b"override"}) == [wrong]


def test_the_lock_file_and_the_state_and_workspace_the_plan_applies_to(project, tmp_path):
    stack = project / "stack"
    lock = stack / ".terraform.lock.hcl"
    lock.write_text("# provider 6.1\n")
    with zipfile.ZipFile(tmp_path / "l.tfplan", "w") as archive:
        archive.writestr("tfplan", _proto(13, _proto(3, b"dev")))
        archive.writestr("tfstate", "{}")
        archive.writestr("tfconfig/modules.json", json.dumps(MODULES))
        for name, data in _files(project).items():
            archive.writestr(f"tfconfig/{name}", data)
        archive.writestr(".terraform.lock.hcl", "# provider 6.0\n")
    saved = read_saved_plan(tmp_path / "l.tfplan")
    assert code_problems(saved, stack, project, lock, {}) == [
        "stack/.terraform.lock.hcl differs from the provider lock file in the saved plan"
    ]
    assert saved.lineage is None and saved.serial == 0
    assert state_problems(saved, workspace="dev", lineage=None, serial=0) == []
    assert state_problems(saved, workspace="prod", lineage="lin-9", serial=4) == [
        "the saved plan applies to workspace 'dev', not 'prod'",
        "the saved plan was made against another state (lineage None → lin-9)",
    ]


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_plan_is_a_value_error(tmp_path, content):
    (tmp_path / "x.tfplan").write_bytes(content)
    with pytest.raises(ValueError, match="not a readable Terraform plan"):
        read_saved_plan(tmp_path / "x.tfplan")


def test_an_entry_outside_the_planned_modules_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.tfplan", "w") as archive:
        archive.writestr("tfplan", b"")
        archive.writestr("tfstate", "{}")
        archive.writestr("tfconfig/modules.json", json.dumps([{"Key": "", "Dir": "."}]))
        archive.writestr("tfconfig/m-other/main.tf", "x")
    with pytest.raises(ValueError, match="unexpected entry tfconfig/m-other/main.tf"):
        read_saved_plan(tmp_path / "x.tfplan")


def test_values_compare_as_terraform_converts_them_and_only_names_are_reported():
    planned = {
        "port": {"value": 5432},
        "port_text": {"value": "5432"},
        "flag": {"value": "true"},
        "database": {"value": {"host": "h", "port": 5, "password_file": None}},
        "list": {"value": ["a", "b"]},
        "token": {"value": "tok-secret-77"},
    }
    same = {"port": 5432, "port_text": 5432, "flag": True, "database": {"host": "h", "port": 5}, "list": ["a", "b"]}
    assert variable_problems(planned, same) == []
    assert variable_problems(planned, {"token": "tok-other", "database": {"host": "h2", "port": 5}, "gone": 1}) == [
        "variable 'database' was planned with another value than this checkout gives it",
        "variable 'gone' was planned with another value than this checkout gives it",
        "variable 'token' was planned with another value than this checkout gives it",
    ]
    assert variable_problems(planned, {"list": ["a"], "flag": False, "port": "5433"}) == [
        "variable 'flag' was planned with another value than this checkout gives it",
        "variable 'list' was planned with another value than this checkout gives it",
        "variable 'port' was planned with another value than this checkout gives it",
    ]
