"""`env force-unlock` without --stack works on the project's first stack, whatever it is called."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolkit.cli import app

pytestmark = pytest.mark.slow


def test_force_unlock_defaults_to_the_first_stack(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "main.tf").write_text('variable "environment" { type = string }\n')
    (tmp_path / "tfvars").mkdir()
    (tmp_path / "tfvars" / "local.tfvars.json").write_text("{}")
    (tmp_path / "toolkit.toml").write_text(
        'stacks = ["core"]\n[terraform]\nengine = "embedded"\n[environments.local]\n'
        'stacks = { core = "core" }\nbackend = { type = "local" }\nvar_files = ["local.tfvars.json"]\n'
    )
    runner = CliRunner()
    assert runner.invoke(app, ["-C", str(tmp_path), "--plain", "env", "create", "local"]).exit_code == 0
    result = runner.invoke(app, ["-C", str(tmp_path), "--plain", "env", "force-unlock", "local", "no-such-lock"])
    assert "unknown stack" not in result.output
    # Terraform itself answers, for stack core: a local state has no lock another process could release
    assert "terraform force-unlock failed for stack 'core' (environment 'local')" in result.output, result.output
