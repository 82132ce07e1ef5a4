"""Ephemeral environments' lifecycle records: created when, by whom, for which branch, for how long."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from toolkit.config import Backend, Project
from toolkit.errors import ToolkitError
from toolkit.records import JsonStore, json_store


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


class RecordStore:
    """Lifecycle records of ephemeral environments, typed."""

    def __init__(self, store: JsonStore) -> None:
        self.store = store

    @staticmethod
    def _typed(raw: dict) -> EnvironmentRecord:
        try:
            return EnvironmentRecord(**raw)
        except TypeError as exc:
            raise ToolkitError(f"an environment record is not readable: {exc}", hint="delete it and re-run") from None

    def get(self, name: str) -> EnvironmentRecord | None:
        raw = self.store.get(name)
        return self._typed(raw) if raw is not None else None

    def put(self, record: EnvironmentRecord) -> None:
        self.store.put(record.name, asdict(record))

    def delete(self, name: str) -> None:
        self.store.delete(name)

    def all(self) -> list[EnvironmentRecord]:
        return sorted((self._typed(raw) for raw in self.store.all()), key=lambda r: r.name)


def record_store(project: Project, backend: Backend, endpoint: str | None = None) -> RecordStore:
    return RecordStore(json_store(project, backend, "environments", endpoint))
