"""`toolkit emulator stop`: stop the state folder's own AWS emulator (moto), which `--emulator` started."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.emulator_server import NOT_PERSISTENT, running_endpoint, stop
from toolkit.deploy.standin import remove_every_stand_in


@dataclass(frozen=True)
class EmulatorStopResult:
    endpoint: str | None  # where it answered, or None when none was running
    stopped: bool
    stand_ins_removed: tuple[str, ...] = ()  # the RDS instances whose stand-in PostgreSQL went with it
    note: str = NOT_PERSISTENT


def emulator_stop(ctx: Context) -> EmulatorStopResult:
    """Stop the emulator; every emulated resource and the state bucket go with it (moto keeps no data), and
    so do the stand-in databases of its RDS instances: a next `--emulator` run creates new instances,
    which start empty as new RDS instances do."""
    endpoint = running_endpoint(ctx.paths.root)
    stopped = stop(ctx.paths.root)
    return EmulatorStopResult(endpoint, stopped, tuple(remove_every_stand_in(ctx)))
