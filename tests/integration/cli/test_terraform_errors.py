"""Terraform's own failures through the CLI: its exit code passed through, its error quoted, the
workspace never invented."""

from __future__ import annotations

import pytest

from tests.running import invoke

pytestmark = pytest.mark.slow


def test_terraform_failure_passes_its_exit_code_through(local_project):
    (local_project / "terraform/local/infra/broken.tf").write_text('output "x" { value = var.nope }\n')
    result = invoke(local_project, "--engine", "embedded", "env", "up", "local")
    assert result.exit_code == 1
    assert "terraform plan failed for stack 'infra' (environment 'local')" in result.output
    assert "Reference to undeclared input variable" in result.output


def test_named_environment_without_workspace_is_not_created(local_project):
    config = local_project / "toolkit.toml"
    config.write_text(config.read_text().replace("create_workspace = true\n", ""))
    result = invoke(local_project, "env", "up", "local")
    assert result.exit_code == 64
    assert "the workspace 'local' does not exist" in result.output
    assert "toolkit env create local" in result.output
