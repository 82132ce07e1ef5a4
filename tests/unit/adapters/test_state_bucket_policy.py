"""bootstrap on a bucket that has a policy: toolkit's TLS-only statement is merged in by Sid."""

from __future__ import annotations

import json

import pytest

from toolkit.adapters.aws.state_bucket import TLS_SID, merged_policy, tls_only_statement
from toolkit.errors import ToolkitError

READERS = {
    "Sid": "AllowAuditors",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/auditor"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
}


def test_no_policy_gets_the_tls_statement_alone():
    policy, kept = merged_policy(None, "b")
    assert json.loads(policy)["Statement"] == [tls_only_statement("b")] and kept == 0


def test_other_statements_are_kept_and_ours_is_replaced_by_sid():
    stale = dict(tls_only_statement("b"), Resource="arn:aws:s3:::b")  # an older version of ours
    existing = json.dumps({"Version": "2012-10-17", "Id": "team-policy", "Statement": [READERS, stale]})
    policy, kept = merged_policy(existing, "b")
    document = json.loads(policy)
    assert kept == 1 and document["Id"] == "team-policy"
    assert document["Statement"] == [READERS, tls_only_statement("b")]
    assert merged_policy(policy, "b") == (None, 1)  # already there: nothing to write


def test_a_single_statement_object_is_accepted():
    policy, kept = merged_policy(json.dumps({"Version": "2012-10-17", "Statement": READERS}), "b")
    assert kept == 1 and [s.get("Sid") for s in json.loads(policy)["Statement"]] == ["AllowAuditors", TLS_SID]


def test_a_policy_that_is_not_json_is_not_overwritten():
    with pytest.raises(ToolkitError, match="not a JSON policy document"):
        merged_policy("{not json", "b")
