"""Whether a stack's state lock is held right now, asked without taking it: the S3 backend's lockfile
(`<state key>.tflock`, which Terraform writes with a conditional put for as long as a run holds it) or the
local backend's lock on its state file (an fcntl lock, gone with the process that held it)."""

from __future__ import annotations

import contextlib
import fcntl
import json
from pathlib import Path

from toolkit.adapters.aws.clients import client
from toolkit.errors import ToolkitError
from toolkit.terraform.argv import StackTarget


def lock_holder(target: StackTarget, endpoint: str | None = None) -> str | None:
    """Who holds the state lock of the target's workspace ("ID by WHO for OPERATION since CREATED"), or
    None when nobody does. Raises ToolkitError when it cannot be told (a caller about to destroy must
    then not go on)."""
    if target.backend.type == "local":
        return _local_holder(_local_state(target))
    settings = target.backend.settings
    key = settings.get("key", f"{target.stack}.tfstate")
    if target.environment != "default":
        key = f"{settings.get('workspace_key_prefix', 'env:')}/{target.environment}/{key}"
    return _s3_holder(settings["bucket"], f"{key}.tflock", settings["region"], endpoint or settings.get("endpoint"))


def _local_state(target: StackTarget) -> Path:
    if target.environment == "default":
        return target.backend_state_dir / "terraform.tfstate"
    return target.backend_state_dir / "workspaces" / target.environment / "terraform.tfstate"


def _local_holder(state: Path) -> str | None:
    if not state.is_file():
        return None
    with state.open("r+b") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # Terraform locks the state file the same way
        except OSError:
            info = state.parent / f".{state.name}.lock.info"
            text = info.read_text(errors="replace") if info.is_file() else ""
            return _describe(text) or f"a process holding {state}"
        fcntl.lockf(handle, fcntl.LOCK_UN)
    return None


def _s3_holder(bucket: str, key: str, region: str, endpoint: str | None) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = client("s3", region=region, endpoint=endpoint).get_object(Bucket=bucket, Key=key)
        text = found["Body"].read().decode("utf-8", errors="replace")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise ToolkitError(f"cannot read s3://{bucket}/{key} to see whether the state is locked: {exc}") from None
    except BotoCoreError as exc:
        raise ToolkitError(f"cannot reach S3 bucket {bucket!r} to see whether the state is locked: {exc}") from None
    return _describe(text) or f"s3://{bucket}/{key}"


def _describe(text: str) -> str | None:
    """Terraform's lock info (JSON: ID, Operation, Who, Created) in one line."""
    info = None
    with contextlib.suppress(ValueError):
        info = json.loads(text)
    if not isinstance(info, dict):
        return None
    return (
        f"lock {info.get('ID', '?')} by {info.get('Who', '?')} for {info.get('Operation', '?')} "
        f"since {info.get('Created', '?')}"
    )
