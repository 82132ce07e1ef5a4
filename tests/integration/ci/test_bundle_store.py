"""ci/bundle_store.py against a real S3 API (moto server): a bundle goes to the deploy role's bucket and
back byte for byte, is never replaced, and a hostile object name never escapes the folder it is pulled to."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import boto3
import pytest

from tests.projects import REPO

pytestmark = pytest.mark.slow


def _run(moto_endpoint, *args):
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(
        [sys.executable, str(REPO / "ci" / "bundle_store.py"), *map(str, args)], capture_output=True, text=True, env=env
    )


def test_push_pull_round_trip_and_never_replace(moto_endpoint, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"state-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    bundle = tmp_path / "bundle-prod"
    (bundle / "rendered" / "glue").mkdir(parents=True)
    (bundle / "manifest.json").write_text("{}")
    (bundle / "infra.tfplan").write_bytes(b"PK\x03\x04\x00binary")
    (bundle / "rendered" / "glue" / "job.json").write_text('{"Name": "x"}')
    uri = f"s3://{bucket}/toolkit/bundles/prod/abc123/42"

    pushed = _run(moto_endpoint, "push", bundle, uri)
    assert pushed.returncode == 0, pushed.stderr
    assert "3 file(s)" in pushed.stdout
    again = _run(moto_endpoint, "push", bundle, uri)
    assert again.returncode != 0 and "already holds a bundle: bundles are never replaced" in again.stderr

    pulled = _run(moto_endpoint, "pull", uri, tmp_path / "applied")
    assert pulled.returncode == 0, pulled.stderr
    for path in bundle.rglob("*"):
        if path.is_file():
            assert (tmp_path / "applied" / path.relative_to(bundle)).read_bytes() == path.read_bytes()
    missing = _run(moto_endpoint, "pull", f"s3://{bucket}/toolkit/bundles/prod/other/1", tmp_path / "none")
    assert missing.returncode != 0 and "no bundle at" in missing.stderr
    not_a_bundle = _run(moto_endpoint, "push", tmp_path / "applied" / "rendered", f"s3://{bucket}/x/1")
    assert not_a_bundle.returncode != 0 and "is not a plan bundle" in not_a_bundle.stderr


def test_an_object_name_that_climbs_out_is_refused(moto_endpoint, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"state-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="b/1/manifest.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="b/1/../../escaped.txt", Body=b"x")
    pulled = _run(moto_endpoint, "pull", f"s3://{bucket}/b/1", tmp_path / "in")
    assert pulled.returncode != 0 and "refusing the object name" in pulled.stderr
    assert not (tmp_path / "escaped.txt").exists()
