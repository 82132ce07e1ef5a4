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


def test_each_emulated_db_instance_has_its_own_resource_id():
    # The provider reads an aws_db_instance back by the dbi-resource-id filter: with the orders database
    # and the warehouse, one id shared by both made it take the pair for "not found".
    import boto3
    from moto import mock_aws

    from toolkit.adapters.aws.moto_server import _patch_rds

    _patch_rds()  # only this patch: the others change moto for the rest of this process
    with mock_aws():
        rds = boto3.client("rds", region_name="eu-west-1")
        for name in ("orders-pr-1-pg", "orders-pr-1-dw"):
            rds.create_db_instance(
                DBInstanceIdentifier=name,
                Engine="postgres",
                DBInstanceClass="db.t3.micro",
                MasterUsername="admin",
                MasterUserPassword="not-a-secret-123",
                AllocatedStorage=20,
            )
        ids = [db["DbiResourceId"] for db in rds.describe_db_instances()["DBInstances"]]
        assert len(set(ids)) == 2 and all(i.startswith("db-") and len(i) == 29 for i in ids)
        for resource_id, name in zip(ids, ("orders-pr-1-pg", "orders-pr-1-dw"), strict=True):
            found = rds.describe_db_instances(Filters=[{"Name": "dbi-resource-id", "Values": [resource_id]}])
            assert [db["DBInstanceIdentifier"] for db in found["DBInstances"]] == [name]
