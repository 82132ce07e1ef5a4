"""boto3 clients with short timeouts and bounded retries, optionally pointed at a local AWS endpoint."""

from __future__ import annotations

import os


def client(service: str, *, region: str | None = None, endpoint: str | None = None):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 4, "mode": "standard"})
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=config)
