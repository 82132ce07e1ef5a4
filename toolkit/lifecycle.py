"""Ephemeral environments' lifecycle records: created when, by whom, for which branch, for how long.

Records live beside the state they describe (the S3 state bucket, or the local state folder), so
any CI job that can reach the state can list, and reap, expired environments.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from toolkit.config import Backend, Project
from toolkit.errors import ToolkitError

PREFIX = "toolkit/environments/"


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


class RecordStore(Protocol):
    def get(self, name: str) -> EnvironmentRecord | None: ...
    def put(self, record: EnvironmentRecord) -> None: ...
    def delete(self, name: str) -> None: ...
    def all(self) -> list[EnvironmentRecord]: ...


def _decode(raw: bytes | str, where: str) -> EnvironmentRecord:
    try:
        return EnvironmentRecord(**json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise ToolkitError(f"environment record {where} is not readable: {exc}", hint="delete it and re-run") from None


class LocalRecordStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def get(self, name: str) -> EnvironmentRecord | None:
        path = self._path(name)
        return _decode(path.read_bytes(), str(path)) if path.exists() else None

    def put(self, record: EnvironmentRecord) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path(record.name).write_text(json.dumps(asdict(record), indent=2, sort_keys=True))

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def all(self) -> list[EnvironmentRecord]:
        if not self.folder.is_dir():
            return []
        return [_decode(p.read_bytes(), str(p)) for p in sorted(self.folder.glob("*.json"))]


class S3RecordStore:
    def __init__(self, bucket: str, region: str, endpoint: str | None) -> None:
        from toolkit.aws.clients import client

        self.bucket = bucket
        self.s3 = client("s3", region=region, endpoint=endpoint)

    def _call(self, what: str, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ToolkitError(
                f"cannot {what} environment records in s3://{self.bucket}/{PREFIX}: {exc}",
                hint="check the state bucket exists (toolkit bootstrap ENV) and the credentials can reach it",
            ) from None
        except BotoCoreError as exc:
            raise ToolkitError(
                f"cannot reach S3 bucket {self.bucket!r}: {exc}",
                hint="check credentials, region and network (or --endpoint)",
            ) from None

    def get(self, name: str) -> EnvironmentRecord | None:
        found = self._call("read", self.s3.get_object, Key=f"{PREFIX}{name}.json")
        return _decode(found["Body"].read(), f"s3://{self.bucket}/{PREFIX}{name}.json") if found else None

    def put(self, record: EnvironmentRecord) -> None:
        body = json.dumps(asdict(record), indent=2, sort_keys=True).encode()
        self._call("write", self.s3.put_object, Key=f"{PREFIX}{record.name}.json", Body=body)

    def delete(self, name: str) -> None:
        self._call("delete", self.s3.delete_object, Key=f"{PREFIX}{name}.json")

    def all(self) -> list[EnvironmentRecord]:
        records = []
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = self._call("list", lambda **kw: list(paginator.paginate(**kw)), Prefix=PREFIX) or []
        for page in pages:
            for item in page.get("Contents", []):
                found = self._call("read", self.s3.get_object, Key=item["Key"])
                if found:
                    records.append(_decode(found["Body"].read(), f"s3://{self.bucket}/{item['Key']}"))
        return sorted(records, key=lambda r: r.name)


def record_store(project: Project, backend: Backend, endpoint: str | None = None) -> RecordStore:
    if backend.type == "s3":
        settings = backend.settings
        return S3RecordStore(settings["bucket"], settings["region"], endpoint or settings.get("endpoint"))
    return LocalRecordStore(project.state_dir / "environments")
