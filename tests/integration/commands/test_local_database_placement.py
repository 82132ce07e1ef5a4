"""Where the local database lives, from the CLI: a clone in a folder other users cannot enter works as root
with no setting (its server's data is kept where the server's user can reach it), and a second checkout
on the port of a running one is told which checkout holds it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.projects import free_port, new_state_dir, write_local_project
from tests.running import invoke
from toolkit.deploy.paths import StatePaths

pytestmark = pytest.mark.slow


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_a_clone_in_a_folder_only_root_can_enter_works_with_no_setting():
    private = Path(tempfile.mkdtemp(prefix="toolkit-private-"))  # mode 0700, as mktemp -d and /root are
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        project = write_local_project(private / "clone", port=free_port(), state_dir=private / "clone" / ".toolkit")
        up = invoke(project, "env", "up", "local")
        assert up.exit_code == 0, up.output
        outside = StatePaths(private / "clone" / ".toolkit").postgres_outside("local")
        assert (outside / "data" / "PG_VERSION").is_file()
        assert private.stat().st_mode & 0o777 == 0o700  # nothing above toolkit's own folders was opened
        again = invoke(project, "env", "up", "local")
        assert again.exit_code == 0 and "migrations  0 applied now, 5 before" in again.stdout
        drift = invoke(project, "db", "drift", "local")  # its scratch server cannot live in the state folder either
        assert drift.exit_code == 0, drift.output
        assert private.stat().st_mode & 0o777 == 0o700
        down = invoke(project, "env", "down", "local")
        assert down.exit_code == 0, down.output
        assert not outside.exists() and not outside.parent.exists()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_a_second_checkout_on_a_taken_port_is_told_which_checkout_holds_it(tmp_path):
    port = free_port()
    first = write_local_project(tmp_path / "first", port=port, state_dir=new_state_dir())
    second = write_local_project(tmp_path / "second", port=port, state_dir=new_state_dir())
    assert invoke(first, "env", "up", "local").exit_code == 0
    try:
        result = invoke(second, "env", "up", "local")
        assert result.exit_code == 3, result.output
        assert (
            f"port {port} on 127.0.0.1 is taken by the local PostgreSQL of another checkout (data in " in result.output
        )
        assert "give this checkout another port" in result.output
    finally:
        invoke(first, "env", "down", "local")
        invoke(second, "env", "down", "local")
