from toolkit.support import masking
from toolkit.terraform.outputs import parse_outputs


def test_registered_secrets_and_url_passwords_are_masked():
    masking.register("s3cr3t-value")
    text = "pw=s3cr3t-value url=postgresql://app:hunter22@db:5432/x"
    assert masking.mask(text) == "pw=*** url=postgresql://app:***@db:5432/x"


def test_sensitive_outputs_are_registered_at_parse_time():
    outputs = parse_outputs(
        {
            "token": {"sensitive": True, "type": "string", "value": "tok-123456"},
            "nested": {"sensitive": True, "type": ["object", {}], "value": {"a": ["deep-secret"]}},
            "plain": {"sensitive": False, "type": "string", "value": "visible-value"},
        }
    )
    assert outputs["token"].sensitive and not outputs["plain"].sensitive
    assert masking.mask("tok-123456 deep-secret visible-value") == "*** *** visible-value"


def test_state_bucket_policy_denies_plain_http():
    import json

    from toolkit.adapters.aws.state_bucket import tls_only_policy

    statement = json.loads(tls_only_policy("b"))["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
