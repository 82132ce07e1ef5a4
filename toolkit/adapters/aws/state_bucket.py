"""The S3 bucket that holds Terraform state: created idempotently, hardened, and checked for locking.

Terraform's S3 lockfile (`use_lockfile = true`) relies on conditional writes: a `PutObject` with
`If-None-Match: *` must be refused when the object exists. A store that ignores the header gives no
mutual exclusion at all, so `bootstrap` proves the behaviour before any state goes there.

On a bucket that exists, bootstrap adds and never takes away: its TLS-only statement is merged into the
bucket's policy by Sid (the other statements stay), and encryption the bucket already has with KMS is
kept when toolkit.toml names no key (it is never downgraded to AES256).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from toolkit.adapters.aws.clients import client
from toolkit.errors import ConfigError, ToolkitError


@dataclass(frozen=True)
class BootstrapResult:
    bucket: str
    region: str
    created: bool
    settings: tuple[str, ...]  # what was ensured, in order
    conditional_writes: bool


TLS_SID = "DenyInsecureTransport"


def tls_only_statement(bucket: str) -> dict:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_only_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [tls_only_statement(bucket)]}, sort_keys=True)


def merged_policy(existing: str | None, bucket: str) -> tuple[str | None, int]:
    """The bucket policy with toolkit's TLS-only statement in it, replacing only a statement with the
    same Sid; (None, kept) when the existing policy already has it exactly. `kept`: other statements."""
    if not existing:
        return tls_only_policy(bucket), 0
    try:
        policy = json.loads(existing)
        statements = policy.get("Statement", [])
    except (ValueError, AttributeError) as exc:
        raise ToolkitError(
            f"the policy of bucket {bucket!r} is not a JSON policy document, so it cannot be merged",
            hint="fix or remove the bucket policy, then run bootstrap again",
        ) from exc
    if isinstance(statements, dict):  # a single statement may be written without a list
        statements = [statements]
    others = [st for st in statements if not (isinstance(st, dict) and st.get("Sid") == TLS_SID)]
    ours = tls_only_statement(bucket)
    if len(others) == len(statements) - 1 and ours in statements:
        return None, len(others)
    policy["Statement"] = [*others, ours]
    policy.setdefault("Version", "2012-10-17")
    return json.dumps(policy, sort_keys=True), len(others)


def bootstrap_state_bucket(
    bucket: str, region: str, *, endpoint: str | None = None, kms_key_id: str | None = None
) -> BootstrapResult:
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client("s3", region=region, endpoint=endpoint)
    try:
        created = _ensure_bucket(s3, bucket, region)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        encryption = ensure_encryption(s3, bucket, kms_key_id)
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
        policy = (
            "TLS-only policy skipped: the endpoint is plain HTTP" if plain_http else ensure_tls_only_policy(s3, bucket)
        )
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
    ensured = ("versioning", encryption, "public access block", "conditional writes", policy)
    return BootstrapResult(bucket, region, created, ensured, conditional)


def _current_encryption(s3, bucket: str) -> dict:
    """The bucket's default encryption rule ({} when it has none)."""
    from botocore.exceptions import ClientError

    try:
        config = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ServerSideEncryptionConfigurationNotFoundError":
            return {}
        raise
    rules = config.get("Rules") or [{}]
    return rules[0].get("ApplyServerSideEncryptionByDefault", {})


def ensure_encryption(s3, bucket: str, kms_key_id: str | None) -> str:
    """SSE-KMS with the configured key; without one, SSE-KMS already there is kept, else AES256."""
    current = _current_encryption(s3, bucket)
    if kms_key_id:
        rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id}
    elif current.get("SSEAlgorithm", "").startswith("aws:kms"):
        key = current.get("KMSMasterKeyID") or "the AWS managed key"
        return f"encryption (kept {current['SSEAlgorithm']} with {key}: toolkit.toml names no kms_key_id)"
    else:
        rule = {"SSEAlgorithm": "AES256"}
    if current != rule:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(kms_key_id)}]
            },
        )
    return "encryption" if not kms_key_id else f"encryption (aws:kms with {kms_key_id})"


def ensure_tls_only_policy(s3, bucket: str) -> str:
    from botocore.exceptions import ClientError

    try:
        existing = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucketPolicy":
            raise
        existing = None
    policy, kept = merged_policy(existing, bucket)
    if policy is not None:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    return "TLS-only policy" + (f" (merged: {kept} other statement(s) kept)" if kept else "")


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
