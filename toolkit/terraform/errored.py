"""The state Terraform could not write: when saving the state to the backend fails (the S3 endpoint
gone mid-apply), Terraform writes it to `errored.tfstate` in the folder it runs in and asks for a
`terraform state push`. Running again instead would plan from the old state and create every resource a
second time, so toolkit keeps the file per environment and stack and refuses every run until
`toolkit env push-state` has pushed it."""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.errors import StateNotWritten
from toolkit.terraform.argv import StackTarget

ERRORED = "errored.tfstate"


def saved_path(target: StackTarget) -> Path:
    """Where toolkit keeps one environment's and stack's errored state: beside its TF_DATA_DIR, in the
    owner-only state folder (deploy/paths.py: `<env>/<stack>/errored.tfstate`)."""
    return target.data_dir.parent / ERRORED


def _command(target: StackTarget) -> str:
    return f"toolkit env push-state {target.environment} --stack {target.stack}"


def keep_errored(target: StackTarget) -> StateNotWritten | None:
    """After a failed run: move a fresh `errored.tfstate` out of the stack folder (shared by every
    environment) to this environment's place, and say exactly what to do. None when there is none."""
    written = target.directory / ERRORED
    if not written.is_file():
        return None
    kept = saved_path(target)
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.replace(written, kept)
    os.chmod(kept, 0o600)
    return StateNotWritten(
        f"Terraform could not save the state of {target.label} to its backend; it is kept in {kept}. "
        "Do not run the same command again: it would work from the old state and create every resource "
        "of this run a second time",
        hint=f"once the backend is reachable, push it: {_command(target)} (if Terraform could not release "
        "the state lock either, push-state names the lock and the force-unlock command to release it first)",
    )


def refuse_errored(target: StackTarget) -> None:
    """Before any run: refuse while an errored state of this environment (or of an unknown environment,
    still in the stack folder) waits to be pushed."""
    kept = saved_path(target)
    if kept.is_file():
        raise StateNotWritten(
            f"{kept} holds the state of {target.label} that Terraform could not save to its backend: "
            "nothing runs until it is pushed (running would create its resources a second time)",
            hint=f"push it: {_command(target)}",
        )
    loose = target.directory / ERRORED
    if loose.is_file():
        raise StateNotWritten(
            f"{loose} holds a state Terraform could not save to its backend (from a run of this folder "
            "outside toolkit, or one that stopped before toolkit could keep it): nothing runs until it is pushed",
            hint=f"push it to the environment it belongs to: {_command(target)} --file {loose}",
        )
