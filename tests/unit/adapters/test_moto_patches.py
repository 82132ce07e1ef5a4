"""The emulator's answer to bucket policies over plain HTTP: only a Deny for non-TLS requests is dropped."""

from toolkit.adapters.aws.moto_server import _applies_over_tls


def statement(condition):
    return {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": condition}


def test_only_a_statement_conditioned_on_plain_http_alone_is_dropped():
    assert not _applies_over_tls(statement({"Bool": {"aws:SecureTransport": "false"}}))
    assert not _applies_over_tls(statement({"Bool": {"aws:SecureTransport": ["false"]}}))
    assert _applies_over_tls(statement({"Bool": {"aws:SecureTransport": "true"}}))
    # Anything else is left to moto as it is: a second condition, another key, no condition.
    assert _applies_over_tls(
        statement({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"s3:x-amz-acl": "public-read"}})
    )
    assert _applies_over_tls(statement({"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    assert _applies_over_tls({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
