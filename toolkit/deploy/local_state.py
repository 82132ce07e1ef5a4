"""A local backend's state file that cannot be what it claims: empty while the deployment record says the
environment was deployed (Terraform would plan every resource again, beside the ones that exist), or
not JSON (truncated): refused before Terraform runs, naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import ToolkitError
from toolkit.project.model import Environment
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.locks import lock_holder

if TYPE_CHECKING:
    from toolkit.deploy.paths import StatePaths


def state_file(target: StackTarget) -> Path:
    """The local backend's state file of the target's workspace (as terraform/locks.py finds it)."""
    if target.environment == "default":
        return target.backend_state_dir / "terraform.tfstate"
    return target.backend_state_dir / "workspaces" / target.environment / "terraform.tfstate"


def refuse_broken_state(target: StackTarget, env: Environment, paths: StatePaths) -> None:
    if target.backend.type != "local":
        return
    path = state_file(target)
    if not path.is_file() or lock_holder(target):  # a run holding the lock may be writing it right now
        return
    raw = path.read_bytes()
    backup = path.with_name(path.name + ".backup")
    restore = f"restore it from {backup}" if backup.is_file() else "restore it from a backup"
    if not raw.strip():
        from toolkit.state import deployments
        from toolkit.state.store import raw_store

        records = paths.records(deployments.KIND)
        record = raw_store(env.backend, deployments.KIND, records).get(env.name)
        if record is None:
            return
        raise ToolkitError(
            f"the state file {path} of {target.label} is empty, but the deployment record of {env.name!r} "
            f"({records / (env.name + '.json')}) says it was deployed at {record.get('deployed_at', '?')}: "
            "running Terraform now would create every resource of the stack a second time",
            hint=f"{restore}; only if the environment is really gone, delete the record and the empty file",
        )
    try:
        json.loads(raw)
    except ValueError as exc:
        raise ToolkitError(
            f"the state file {path} of {target.label} is not valid JSON (truncated?): {exc}",
            hint=f"{restore}; Terraform cannot read it either",
        ) from None
