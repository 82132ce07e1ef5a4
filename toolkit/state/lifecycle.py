"""Ephemeral environments' lifecycle records: created when, by whom, for which branch; last used when, by
whom, at which commit; and for how long after that last use they live."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

KIND = "environments"  # where the records live beside the state: toolkit/environments/<name>.json


@dataclass(frozen=True)
class EnvironmentRecord:
    name: str
    created_at: str  # ISO 8601, UTC
    ttl_seconds: int  # counted from the last use (records without one: from the creation)
    owner: str
    branch: str | None = None
    last_used_at: str | None = None  # the last env up, plan, apply or env extend (ISO 8601, UTC)
    last_used_by: str | None = None
    last_commit: str | None = None  # the commit of the checkout that used it last
    last_use: str | None = None  # which command: "env up", "plan", "apply", "env extend"
    # The expiry last handed to Terraform as `expires_at` (its resources' tags): renewed only when more than
    # half the TTL of it has passed, so using an environment does not make every plan change every tag.
    tagged_expires_at: str | None = None

    @property
    def expires_at(self) -> datetime:
        return datetime.fromisoformat(self.last_used_at or self.created_at) + timedelta(seconds=self.ttl_seconds)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def age_seconds(self, now: datetime) -> int:
        return int((now - datetime.fromisoformat(self.created_at)).total_seconds())

    @property
    def tag_expiry(self) -> datetime:
        """The expiry for tags: the one last handed to Terraform (an older record: its expiry)."""
        return datetime.fromisoformat(self.tagged_expires_at) if self.tagged_expires_at else self.expires_at


def who() -> str:
    """Who is running toolkit: the CI's actor, else the user."""
    for variable in ("TOOLKIT_OWNER", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_USER_ID", "USER"):
        if os.environ.get(variable):
            return os.environ[variable]
    return "unknown"


def new_record(
    name: str,
    ttl_seconds: int,
    *,
    branch: str | None,
    now: datetime | None = None,
    commit: str | None = None,
    use: str | None = None,
) -> EnvironmentRecord:
    now = now or datetime.now(UTC)
    stamp = now.isoformat(timespec="seconds")
    record = EnvironmentRecord(name, stamp, ttl_seconds, who(), branch)
    return replace(
        record,
        last_used_at=stamp,
        last_used_by=record.owner,
        last_commit=commit,
        last_use=use,
        tagged_expires_at=record.expires_at.isoformat(timespec="seconds"),
    )


def renewed(
    record: EnvironmentRecord,
    *,
    now: datetime,
    commit: str | None,
    use: str,
    ttl_seconds: int | None = None,
    branch: str | None = None,
) -> EnvironmentRecord:
    """The record after a use at `now`: the TTL (a new one with `ttl_seconds`) counts from now."""
    used = replace(
        record,
        ttl_seconds=record.ttl_seconds if ttl_seconds is None else ttl_seconds,
        branch=branch or record.branch,
        last_used_at=now.isoformat(timespec="seconds"),
        last_used_by=who(),
        last_commit=commit,
        last_use=use,
    )
    stale = record.tagged_expires_at is None or record.tag_expiry < now + timedelta(seconds=used.ttl_seconds / 2)
    if stale or ttl_seconds is not None:
        used = replace(used, tagged_expires_at=used.expires_at.isoformat(timespec="seconds"))
    return used
