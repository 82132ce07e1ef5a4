"""The protection guard that a local edit cannot bypass: a protected environment's record beside its
state (state/protection.py) is checked before any stack of it is used, and a toolkit.toml that says the
environment is not protected is refused while the record exists."""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import GuardRefused, ToolkitError
from toolkit.project.model import Environment
from toolkit.state import protection
from toolkit.state.protection import ProtectionRecord, new_protection
from toolkit.state.store import RecordStore, raw_store
from toolkit.support.log import get_logger
from toolkit.support.reporting import Reporter

log = get_logger(__name__)


def protection_store(env: Environment, local_folder: Path, endpoint: str | None) -> RecordStore[ProtectionRecord]:
    raw = raw_store(env.backend, protection.KIND, local_folder, endpoint)
    return RecordStore(raw, ProtectionRecord, lambda r: r.environment, f"the protection record of {env.name!r}")


def where(env: Environment) -> str:
    if env.backend.type == "s3":
        return f"s3://{env.backend.settings['bucket']}/toolkit/{protection.KIND}/{env.name}.json"
    return f"{protection.KIND}/{env.name}.json in the state folder"


def refuse_disagreement(store: RecordStore[ProtectionRecord], env: Environment, reporter: Reporter) -> None:
    """Refuse to use an environment that its state says is protected while toolkit.toml says it is not.
    A store that cannot be read is noted, not fatal: Terraform, with the same credentials, cannot reach
    the state either, and says so in its own words."""
    if env.protected or env.ephemeral:
        return
    try:
        record = store.get(env.name)
    except ToolkitError as exc:
        log.debug("protection record not readable", exc_info=True)
        reporter.note(f"the protection record of {env.name!r} could not be read: {exc.message}")
        return
    if record is not None:
        raise GuardRefused(
            f"environment {env.name!r} is protected (recorded beside its state at {where(env)} since "
            f"{record.protected_since} by {record.recorded_by}), but this toolkit.toml says it is not: "
            "nothing is done. Protection is lifted only deliberately",
            hint=f"restore `protected = true`, or, through a reviewed change, run toolkit env unprotect {env.name} "
            f"--confirm {env.name} with toolkit.toml no longer protecting it",
        )


def record_protected(store: RecordStore[ProtectionRecord], env: Environment, verb: str) -> bool:
    """Record a protected environment's protection beside its state (once); True if written now."""
    if not env.protected or store.get(env.name) is not None:
        return False
    store.put(new_protection(env.name, verb))
    return True
