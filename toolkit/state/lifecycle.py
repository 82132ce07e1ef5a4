"""Ephemeral environments' lifecycle records: created when, by whom, for which branch, for how long."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

KIND = "environments"  # where the records live beside the state: toolkit/environments/<name>.json


@dataclass(frozen=True)
class EnvironmentRecord:
    name: str
    created_at: str  # ISO 8601, UTC
    ttl_seconds: int
    owner: str
    branch: str | None = None

    @property
    def expires_at(self) -> datetime:
        return datetime.fromisoformat(self.created_at) + timedelta(seconds=self.ttl_seconds)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def age_seconds(self, now: datetime) -> int:
        return int((now - datetime.fromisoformat(self.created_at)).total_seconds())


def new_record(name: str, ttl_seconds: int, *, branch: str | None, now: datetime | None = None) -> EnvironmentRecord:
    owner = os.environ.get("TOOLKIT_OWNER") or os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"
    now = now or datetime.now(UTC)
    return EnvironmentRecord(name, now.isoformat(timespec="seconds"), ttl_seconds, owner, branch)
