"""Nothing toolkit keeps is readable by other users: the state folder is owner-only, and what toolkit,
Terraform and the embedded PostgreSQL write below it (local state, the server's log with its failing
statements) has no group or other read or write bit. A real `env up local` run as the CLI runs (a child
process, so the CLI's own umask applies), with the caller's umask 022."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from tests.running import run_cli

pytestmark = pytest.mark.slow


def test_the_state_folder_and_everything_in_it_is_the_owners_only(local_project, record_figure):
    state_dir = Path(tomllib.loads((local_project / "toolkit.toml").read_text())["project"]["state_dir"])
    state_dir.chmod(0o755)  # as a caller's umask 022 would have made it
    old = os.umask(0o022)
    try:
        proc = run_cli(local_project, "env", "up", "local")
        output = proc.communicate(timeout=600)[0]
    finally:
        os.umask(old)
    assert proc.returncode == 0, output
    assert stat.S_IMODE(state_dir.stat().st_mode) & 0o066 == 0
    checked, readable = 0, []
    for folder, dirs, files in os.walk(state_dir):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISSOCK(info.st_mode) or stat.S_ISLNK(info.st_mode):
                continue
            checked += 1
            if stat.S_IMODE(info.st_mode) & 0o066:  # x only may stay on the server's way to its data
                readable.append(f"{oct(stat.S_IMODE(info.st_mode))} {path}")
    kinds = {os.path.basename(p) for p in (os.path.join(f, n) for f, _, ns in os.walk(state_dir) for n in ns)}
    assert "postgres.log" in kinds and "terraform.tfstate" in kinds, sorted(kinds)[:40]
    assert not readable, "\n".join(readable[:30])
    record_figure(
        "file modes", f"{checked} files and folders under the state folder after env up: 0 readable by others"
    )
