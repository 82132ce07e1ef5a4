"""Protection recorded beside an environment's state, so it holds whatever a working copy's toolkit.toml
says: written when a protected environment is bootstrapped, created or applied; removed only by
`toolkit env unprotect`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

KIND = "protection"  # where the records live beside the state: toolkit/protection/<name>.json


@dataclass(frozen=True)
class ProtectionRecord:
    environment: str
    protected_since: str  # ISO 8601, UTC
    recorded_by: str
    recorded_on: str  # the verb that wrote it: "bootstrap", "env create", "apply"


def new_protection(environment: str, verb: str, now: datetime | None = None) -> ProtectionRecord:
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    who = os.environ.get("TOOLKIT_OWNER") or os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"
    return ProtectionRecord(environment, stamp, who, verb)
