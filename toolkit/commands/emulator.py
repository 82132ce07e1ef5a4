"""`toolkit emulator stop`: stop the state folder's own AWS emulator (moto), which `--emulator` started."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.emulator_server import NOT_PERSISTENT, running_endpoint, stop


@dataclass(frozen=True)
class EmulatorStopResult:
    endpoint: str | None  # where it answered, or None when none was running
    stopped: bool
    note: str = NOT_PERSISTENT


def emulator_stop(ctx: Context) -> EmulatorStopResult:
    """Stop the emulator; every emulated resource and the state bucket go with it (moto keeps no data)."""
    endpoint = running_endpoint(ctx.paths.root)
    return EmulatorStopResult(endpoint, stop(ctx.paths.root))
