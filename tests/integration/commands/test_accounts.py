"""One state bucket per environment's account: `toolkit bootstrap` refuses credentials of another account
(the stacks' account guard, applied before a bucket is created), against a real STS and S3 (moto)."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.running import invoke

pytestmark = pytest.mark.slow


def test_bootstrap_refuses_credentials_of_another_account(s3_project, moto_endpoint):
    config = s3_project / "toolkit.toml"
    text = config.read_text()
    bucket = text.split('bucket = "')[1].split('"')[0]
    config.write_text(text.replace(f'bucket = "{bucket}"', 'bucket = "prod-state-in-its-own-account"', 2))
    dev = s3_project / "tfvars" / "dev.tfvars.json"
    dev.write_text(json.dumps({**json.loads(dev.read_text()), "allowed_account_ids": ["333333333333"]}))
    refused = invoke(s3_project, "bootstrap", "dev")
    assert refused.exit_code == 3, refused.output
    assert "the credentials are for AWS account 123456789012, but 'dev' lives in 333333333333" in refused.output
    assert "assume dev's own role (one role and one state bucket per account)" in refused.output
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    assert "prod-state-in-its-own-account" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    dev.write_text(json.dumps({**json.loads(dev.read_text()), "allowed_account_ids": ["123456789012"]}))
    created = invoke(s3_project, "bootstrap", "dev")
    assert created.exit_code == 0, created.output
    assert "prod-state-in-its-own-account" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
