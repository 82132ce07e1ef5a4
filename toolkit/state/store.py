"""Small JSON records kept beside an environment's state: in the S3 state bucket, or the local state folder.

Any CI job that can reach the state can read them: lifecycle records of ephemeral environments
(`state/lifecycle.py`), deployment records that the promotion check compares (`state/deployments.py`).
`RecordStore` gives each kind of record its type; the raw stores only move JSON objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from toolkit.adapters.aws.clients import client
from toolkit.errors import ToolkitError
from toolkit.project.model import Backend

R = TypeVar("R")


class JsonStore(Protocol):
    def get(self, name: str) -> dict[str, Any] | None: ...
    def put(self, name: str, value: dict[str, Any]) -> None: ...
    def delete(self, name: str) -> None: ...
    def all(self) -> list[dict[str, Any]]: ...


def _decode(raw: bytes | str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ToolkitError(f"record {where} is not JSON: {exc}", hint="delete it and re-run") from None
    if not isinstance(value, dict):
        raise ToolkitError(f"record {where} is not a JSON object", hint="delete it and re-run")
    return value


def _encode(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


class LocalStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def get(self, name: str) -> dict[str, Any] | None:
        path = self._path(name)
        return _decode(path.read_bytes(), str(path)) if path.exists() else None

    def put(self, name: str, value: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path(name).write_bytes(_encode(value))

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def all(self) -> list[dict[str, Any]]:
        if not self.folder.is_dir():
            return []
        return [_decode(p.read_bytes(), str(p)) for p in sorted(self.folder.glob("*.json"))]


class S3Store:
    def __init__(self, bucket: str, prefix: str, region: str, endpoint: str | None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.s3 = client("s3", region=region, endpoint=endpoint)

    def _call(self, what: str, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ToolkitError(
                f"cannot {what} records in s3://{self.bucket}/{self.prefix}: {exc}",
                hint="check the state bucket exists (toolkit bootstrap ENV) and the credentials can reach it",
            ) from None
        except BotoCoreError as exc:
            raise ToolkitError(
                f"cannot reach S3 bucket {self.bucket!r}: {exc}",
                hint="check AWS credentials, region and network (or --endpoint)",
            ) from None

    def get(self, name: str) -> dict[str, Any] | None:
        key = f"{self.prefix}{name}.json"
        found = self._call("read", self.s3.get_object, Key=key)
        return _decode(found["Body"].read(), f"s3://{self.bucket}/{key}") if found else None

    def put(self, name: str, value: dict[str, Any]) -> None:
        self._call("write", self.s3.put_object, Key=f"{self.prefix}{name}.json", Body=_encode(value))

    def delete(self, name: str) -> None:
        self._call("delete", self.s3.delete_object, Key=f"{self.prefix}{name}.json")

    def all(self) -> list[dict[str, Any]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = self._call("list", lambda **kw: list(paginator.paginate(**kw)), Prefix=self.prefix) or []
        records = []
        for page in pages:
            for item in page.get("Contents", []):
                found = self._call("read", self.s3.get_object, Key=item["Key"])
                if found:
                    records.append(_decode(found["Body"].read(), f"s3://{self.bucket}/{item['Key']}"))
        return records


def raw_store(backend: Backend, kind: str, local_folder: Path, endpoint: str | None = None) -> JsonStore:
    """Records of one kind ("environments", "deployments") beside the state of `backend`: under
    `toolkit/<kind>/` in its S3 bucket, or in `local_folder` for the local backend."""
    if backend.type == "s3":
        settings = backend.settings
        return S3Store(settings["bucket"], f"toolkit/{kind}/", settings["region"], endpoint or settings.get("endpoint"))
    return LocalStore(local_folder)


class RecordStore(Generic[R]):
    """Records of one dataclass type, keyed by `key(record)`; a record that does not fit the type is an
    error naming it (an older or hand-edited record), never a traceback."""

    def __init__(self, raw: JsonStore, record_type: type[R], key: Callable[[R], str], what: str) -> None:
        self.raw = raw
        self.record_type = record_type
        self.key = key
        self.what = what

    def _typed(self, raw: dict[str, Any]) -> R:
        try:
            record = self.record_type(**raw)
        except TypeError as exc:
            raise ToolkitError(f"{self.what} is not readable: {exc}", hint="delete it and re-run") from None
        if not isinstance(self.key(record), str):  # a forged or hand-edited record: its key names nothing
            raise ToolkitError(
                f"{self.what} is not readable: its key is {self.key(record)!r}, not a string",
                hint="delete it and re-run",
            )
        return record

    def get(self, name: str) -> R | None:
        raw = self.raw.get(name)
        return self._typed(raw) if raw is not None else None

    def put(self, record: R) -> None:
        self.raw.put(self.key(record), asdict(record))

    def delete(self, name: str) -> None:
        self.raw.delete(name)

    def all(self) -> list[R]:
        return sorted((self._typed(raw) for raw in self.raw.all()), key=self.key)
