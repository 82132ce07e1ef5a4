"""Keep a plan bundle in storage the deploy role owns, between the job that plans and the one that applies.

A bundle's `.tfplan` files hold sensitive values, so it never goes where every repository reader can
download it (CI artifacts). Instead the plan job pushes it under the environment's state bucket, by
commit and run (`s3://<state bucket>/toolkit/bundles/<env>/<commit>/<run>/`), encrypted by the bucket's
default encryption, and the apply job pulls it back. A bundle once written is never overwritten
(conditional writes), so nobody can swap it between review and apply without that write failing.

    python3 ci/bundle_store.py push DIR s3://BUCKET/PREFIX
    python3 ci/bundle_store.py pull s3://BUCKET/PREFIX DIR

Uses the job's AWS credentials (boto3, a toolkit dependency); `AWS_ENDPOINT_URL` points it at an emulator.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def _location(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise SystemExit(f"bundle_store: {uri!r} is not s3://BUCKET/PREFIX")
    return parsed.netloc, parsed.path.strip("/") + "/"


def push(folder: Path, uri: str) -> int:
    bucket, prefix = _location(uri)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not (folder / "manifest.json").is_file():
        raise SystemExit(f"bundle_store: {folder} is not a plan bundle (no manifest.json)")
    s3 = boto3.client("s3")
    if s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"):
        raise SystemExit(f"bundle_store: s3://{bucket}/{prefix} already holds a bundle: bundles are never replaced")
    for path in files:
        key = prefix + path.relative_to(folder).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), IfNoneMatch="*")
    print(f"bundle_store: {len(files)} file(s) of {folder} stored at s3://{bucket}/{prefix}")
    return 0


def pull(uri: str, folder: Path) -> int:
    bucket, prefix = _location(uri)
    if folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"bundle_store: {folder} is not empty")
    s3 = boto3.client("s3")
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    if not keys:
        raise SystemExit(f"bundle_store: no bundle at s3://{bucket}/{prefix}")
    for key in keys:
        relative = Path(key[len(prefix) :])
        if relative.is_absolute() or ".." in relative.parts:
            raise SystemExit(f"bundle_store: refusing the object name {key!r}")
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    print(f"bundle_store: {len(keys)} file(s) from s3://{bucket}/{prefix} in {folder}")
    return 0


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 3 and argv[0] == "push":
            return push(Path(argv[1]), argv[2])
        if len(argv) == 3 and argv[0] == "pull":
            return pull(argv[1], Path(argv[2]))
    except (BotoCoreError, ClientError) as exc:
        raise SystemExit(f"bundle_store: {exc}") from None
    raise SystemExit("usage: bundle_store.py push DIR s3://BUCKET/PREFIX | pull s3://BUCKET/PREFIX DIR")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
