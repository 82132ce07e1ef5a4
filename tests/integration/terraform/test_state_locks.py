"""Whether a local backend's state lock is held, asked without taking it: another process holds an fcntl
lock on the state file as Terraform does (a real child process), and the answer follows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.project.model import Backend
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.locks import lock_holder

pytestmark = pytest.mark.slow

HOLD = """
import fcntl, sys, time
handle = open(sys.argv[1], "r+b")
fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(60)
"""


def _target(tmp_path: Path, environment: str) -> StackTarget:
    return StackTarget(
        "infra", tmp_path / "stack", environment, tmp_path / "data", Backend("local"), tmp_path / "state", (), "1s"
    )


@pytest.mark.parametrize("environment", ["default", "eph-x"])
def test_a_held_local_lock_is_seen_and_released_with_its_process(tmp_path, environment):
    target = _target(tmp_path, environment)
    folder = (
        target.backend_state_dir if environment == "default" else target.backend_state_dir / "workspaces" / environment
    )
    folder.mkdir(parents=True)
    assert lock_holder(target) is None  # no state yet
    state = folder / "terraform.tfstate"
    state.write_text("{}")
    assert lock_holder(target) is None
    info = {"ID": "abc-1", "Operation": "OperationTypeApply", "Who": "ci@runner", "Created": "2026-01-01T00:00:00Z"}
    (folder / ".terraform.tfstate.lock.info").write_text(json.dumps(info))
    assert lock_holder(target) is None  # a lock.info a dead run left behind is not a lock
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert lock_holder(target) == "lock abc-1 by ci@runner for OperationTypeApply since 2026-01-01T00:00:00Z"
    finally:
        holder.kill()
        holder.wait()
    assert lock_holder(target) is None
