"""Engines too old to lock the S3 state are refused (exit 3), and an engine that fails silently is
reported as such: what ran, and that it printed nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.running import invoke
from toolkit.errors import EngineError
from toolkit.terraform.engine import Engine, supported_version

pytestmark = pytest.mark.slow

FAKE_ENGINE = """#!/bin/sh
if [ "$1" = "version" ]; then echo '{{"terraform_version": "{version}", "platform": "linux_amd64"}}'; exit 0; fi
exit 1
"""


def fake_engine(folder, name: str, version: str) -> str:
    path = folder / name
    path.write_text(FAKE_ENGINE.format(version=version))
    path.chmod(0o755)
    return str(path)


def test_terraform_older_than_1_11_is_refused_before_it_runs(local_project, tmp_path):
    engine = fake_engine(tmp_path, "terraform", "1.9.8")
    result = invoke(local_project, "--engine", engine, "env", "up", "local")
    assert result.exit_code == 3, result.output
    assert f"terraform ({engine}) is Terraform 1.9.8; toolkit needs Terraform 1.11 or later" in result.output
    assert "hint: install Terraform 1.11+" in result.output and "--engine embedded" in result.output


def test_doctor_does_not_call_an_old_engine_ok(local_project, tmp_path):
    engine = fake_engine(tmp_path, "terraform", "1.10.5")
    result = invoke(local_project, "--engine", engine, "doctor")
    assert result.exit_code == 3, result.output
    assert "--  terraform engine" in result.output and "is Terraform 1.10.5; toolkit needs" in result.output


@pytest.mark.parametrize(
    ("name", "version", "ok"),
    [
        ("tofu", "1.10.0", True),
        ("tofu", "1.9.3", False),
        ("terraform", "1.11.0", True),
        ("terraform", "1.11.0-beta1", True),
        ("terraform", "1.10.5", False),
        ("terraform", "0.15.5", False),
    ],
)
def test_minimum_versions(tmp_path, name, version, ok):
    engine = Engine(name, (fake_engine(tmp_path, name, version),))
    if ok:
        assert supported_version(engine) == version
    else:
        with pytest.raises(EngineError, match="or later"):
            supported_version(engine)


def test_an_engine_that_prints_nothing_is_named_with_what_ran(local_project):
    result = invoke(local_project, "--engine", "/bin/false", "env", "up", "local")
    assert result.exit_code == 3, result.output
    assert f"`{Path('/bin/false').resolve()} version -json` exited 1 and printed nothing" in result.output


def test_a_silent_failure_of_terraform_says_it_printed_nothing(local_project, tmp_path):
    engine = fake_engine(tmp_path, "terraform", "1.15.0")  # reports its version, then fails silently
    result = invoke(local_project, "--engine", engine, "env", "up", "local")
    assert result.exit_code == 1, result.output
    assert "terraform init failed for stack 'infra' (environment 'local') (exit 1):" in result.output
    assert f"`{engine} init` printed nothing on stdout or stderr" in result.output
