"""What names a workspace's state in an S3 backend as it is now, read without Terraform: one HeadObject of
the state object (docs/caching.md). Every write Terraform makes replaces the object, which changes its
ETag (and, in a versioned bucket such as `toolkit bootstrap` makes, its VersionId), its LastModified and
usually its size; the cached outputs and resource list of a stack are reused only while all of them are
as they were on both sides of the read that produced them.
"""

from __future__ import annotations

import functools
import os

from toolkit.adapters.aws.clients import client
from toolkit.support.log import get_logger
from toolkit.terraform.argv import StackTarget

log = get_logger(__name__)
_CREDENTIALS = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def state_object(target: StackTarget, endpoint: str | None = None) -> tuple[str, str, str, str | None]:
    """(bucket, key, region, endpoint) of the workspace's state object, as the S3 backend names it:
    `<workspace_key_prefix>/<workspace>/<key>`, or `<key>` for the default workspace."""
    settings = target.backend.settings
    key = settings.get("key", f"{target.stack}.tfstate")
    if target.environment != "default":
        key = f"{settings.get('workspace_key_prefix', 'env:')}/{target.environment}/{key}"
    return settings["bucket"], key, settings["region"], endpoint or settings.get("endpoint")


@functools.lru_cache(maxsize=8)
def _s3(region: str, endpoint: str | None, _credentials: tuple):
    return client("s3", region=region, endpoint=endpoint)  # one per process: a client costs tens of ms


def s3_state_identity(target: StackTarget, endpoint: str | None = None) -> tuple[str, list] | None:
    """(where, identity) of the state object, or None when it cannot be told (no object yet, no access,
    no network): then nothing is cached and Terraform is asked, as without the cache."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key, region, endpoint = state_object(target, endpoint)
    try:
        credentials = tuple(os.environ.get(name) for name in _CREDENTIALS)
        head = _s3(region, endpoint, credentials).head_object(Bucket=bucket, Key=key)
    except (BotoCoreError, ClientError) as exc:
        log.debug("state object s3://%s/%s not looked at: %s", bucket, key, exc)
        return None
    identity = [head.get("ETag"), head.get("VersionId"), head.get("ContentLength"), str(head.get("LastModified"))]
    if identity[0] is None:
        return None
    return f"s3://{bucket}/{key} {region} {endpoint or ''}", identity
