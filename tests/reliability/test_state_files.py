"""A local state file that lies: emptied while the deployment record says the environment is deployed,
or truncated. Both are refused before Terraform runs (which would create the stack again beside the
resources that exist), naming the file, the record and the backup. Real `env up` of the local project."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.running import invoke

pytestmark = pytest.mark.slow


def test_an_empty_or_truncated_state_file_is_refused_naming_it(local_project, record_figure):
    up = invoke(local_project, "env", "up", "local")
    assert up.exit_code == 0, up.output
    state_dir = Path(tomllib.loads((local_project / "toolkit.toml").read_text())["project"]["state_dir"])
    state = state_dir / "state" / "infra" / "workspaces" / "local" / "terraform.tfstate"
    good = state.read_bytes()
    state.write_bytes(b"")
    for args in (("env", "up", "local"), ("plan", "local"), ("env", "down", "local")):
        refused = invoke(local_project, *args)
        assert refused.exit_code == 3, refused.output
        assert f"the state file {state} of stack 'infra' (environment 'local') is empty" in refused.output
        assert "deployment record of 'local'" in refused.output and "a second time" in refused.output
    state.write_bytes(good[: len(good) // 2])
    truncated = invoke(local_project, "env", "up", "local")
    assert truncated.exit_code == 3 and f"the state file {state}" in truncated.output, truncated.output
    assert "is not valid JSON (truncated?)" in truncated.output
    state.write_bytes(good)
    again = invoke(local_project, "env", "up", "local")
    assert again.exit_code == 0, again.output  # the real state back: it runs again
    record_figure("state files", "an emptied state (3 commands) and a truncated one: refused naming the file")
