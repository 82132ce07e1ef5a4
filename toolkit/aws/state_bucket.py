"""The S3 bucket that holds Terraform state: created idempotently, hardened, and checked for locking.

Terraform's S3 lockfile (`use_lockfile = true`) relies on conditional writes: a `PutObject` with
`If-None-Match: *` must be refused when the object exists. A store that ignores the header gives no
mutual exclusion at all, so `bootstrap` proves the behaviour before any state goes there.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from toolkit.aws.clients import client
from toolkit.errors import ConfigError, ToolkitError


@dataclass(frozen=True)
class BootstrapResult:
    bucket: str
    region: str
    created: bool
    settings: tuple[str, ...]  # what was ensured, in order
    conditional_writes: bool


def tls_only_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def bootstrap_state_bucket(
    bucket: str, region: str, *, endpoint: str | None = None, kms_key_id: str | None = None
) -> BootstrapResult:
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client("s3", region=region, endpoint=endpoint)
    try:
        created = _ensure_bucket(s3, bucket, region)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id} if kms_key_id else {"SSEAlgorithm": "AES256"}
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(kms_key_id)}]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        conditional = _honours_conditional_writes(s3, bucket)
        # A TLS-only policy would lock us out of an emulator that speaks plain HTTP
        plain_http = bool(endpoint and endpoint.startswith("http://"))
        if not plain_http:
            s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ToolkitError(
            f"S3 refused to set up state bucket {bucket!r}: {error.get('Code')}: {error.get('Message', '')}",
            hint="check the s3:CreateBucket and s3:PutBucket* permissions, or choose another bucket name",
        ) from None
    except BotoCoreError as exc:
        raise ToolkitError(
            f"cannot reach S3 for bucket {bucket!r}: {exc}",
            hint="check credentials, region and network (or --endpoint)",
        ) from None
    if not conditional:
        raise ConfigError(
            f"the store behind bucket {bucket!r} ignores conditional writes (If-None-Match: *), "
            "so Terraform's lockfile would not lock anything",
            hint="use Amazon S3 or an S3-compatible store that implements conditional writes",
        )
    ensured = ("versioning", "encryption", "public access block", "conditional writes") + (
        ("TLS-only policy skipped: the endpoint is plain HTTP",) if plain_http else ("TLS-only policy",)
    )
    return BootstrapResult(bucket, region, created, ensured, conditional)


def _ensure_bucket(s3, bucket: str, region: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    return True


def _honours_conditional_writes(s3, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    key = f"toolkit/bootstrap-probe/{uuid.uuid4()}"
    s3.put_object(Bucket=bucket, Key=key, Body=b"probe", IfNoneMatch="*")
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"probe", IfNoneMatch="*")
        refused = False
    except ClientError as exc:
        refused = exc.response.get("Error", {}).get("Code") in (
            "PreconditionFailed",
            "412",
            "ConditionalRequestConflict",
        )
    finally:
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
        for version in versions:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    return refused
