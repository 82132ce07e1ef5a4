"""The suite stops every PostgreSQL it starts, also when a test fails or `env down` cannot run."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from tests.projects import free_port, new_state_dir, remove_state_dir, write_local_project
from toolkit.cli import app

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_server_left_by_a_failed_env_down_is_stopped_at_teardown(tmp_path):
    state_dir = new_state_dir()
    project = write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    try:
        up = CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "up", "local"])
        assert up.exit_code == 0, up.output
        pid = int((state_dir / "local" / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
        (project / "terraform" / "local" / "infra" / "broken.tf").write_text('output "x" { value = var.nope }\n')
        down = CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "down", "local"])
        assert down.exit_code != 0 and alive(pid)  # what used to stay behind after a failed test
    finally:
        remove_state_dir(state_dir)
    deadline = time.monotonic() + 30
    while alive(pid):
        assert time.monotonic() < deadline, f"PostgreSQL {pid} still runs"
        time.sleep(0.1)
    assert not state_dir.exists()
