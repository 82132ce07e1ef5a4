"""bootstrap on a bucket someone already set up: it adds what is missing and takes nothing away."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from toolkit.adapters.aws.state_bucket import TLS_SID, bootstrap_state_bucket, ensure_tls_only_policy

pytestmark = pytest.mark.slow


@pytest.fixture
def s3(moto_endpoint):
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


def encryption_of(s3, bucket):
    return s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"
    ]


def test_sse_kms_is_kept_when_toolkit_toml_names_no_key(s3, moto_endpoint):
    bucket = f"kms-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
        },
    )
    result = bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint)
    assert encryption_of(s3, bucket) == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert f"encryption (kept aws:kms with {key}: toolkit.toml names no kms_key_id)" in result.settings


def test_a_new_bucket_gets_aes256_and_a_named_key_wins(s3, moto_endpoint):
    bucket = f"new-{uuid.uuid4().hex[:10]}"
    assert bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint).created
    assert encryption_of(s3, bucket)["SSEAlgorithm"] == "AES256"
    result = bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint, kms_key_id="alias/state")
    assert encryption_of(s3, bucket) == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/state"}
    assert "encryption (aws:kms with alias/state)" in result.settings


def test_the_tls_statement_joins_an_existing_policy(s3):
    bucket = f"pol-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    readers = {
        "Sid": "AllowAuditors",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [readers]}))
    assert ensure_tls_only_policy(s3, bucket) == "TLS-only policy (merged: 1 other statement(s) kept)"
    assert ensure_tls_only_policy(s3, bucket) == "TLS-only policy (merged: 1 other statement(s) kept)"
    statements = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AllowAuditors", TLS_SID]
