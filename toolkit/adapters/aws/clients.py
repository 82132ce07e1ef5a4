"""boto3 clients with short timeouts and bounded retries, optionally pointed at a local AWS endpoint."""

from __future__ import annotations

import os


def client(service: str, *, region: str | None = None, endpoint: str | None = None):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 4, "mode": "standard"})
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=config)


def caller_account(*, region: str | None = None, endpoint: str | None = None) -> str:
    """The account the current credentials belong to (STS GetCallerIdentity); ToolkitError when unknown."""
    from botocore.exceptions import BotoCoreError, ClientError

    from toolkit.errors import ToolkitError

    try:
        return str(client("sts", region=region, endpoint=endpoint).get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise ToolkitError(
            f"cannot tell which AWS account the credentials are for: {exc}",
            hint="check the credentials (the environment's own role) and the network",
        ) from None
