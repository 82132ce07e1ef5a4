"""terraform/drift.py: which refresh-only drift is a change made outside Terraform. The entries are shaped
as `terraform show -json` writes them for the AWS stacks on the emulator right after `env up`, where every
one of them used to be reported as drift."""

from __future__ import annotations

from toolkit.terraform.drift import outside_changes


def drift(address: str, before: dict | None, after: dict | None, actions: tuple[str, ...] = ("update",)) -> dict:
    return {"address": address, "change": {"actions": list(actions), "before": before, "after": after}}


READ_BACK = {
    "resource_drift": [
        # unset maps and lists saved as null, read back empty
        drift("aws_cloudwatch_log_group.database[\"upgrade\"]", {"tags": None, "retention_in_days": 3}, {"tags": {}, "retention_in_days": 3}),
        # rules that are resources of their own, read back into the group
        drift(
            "aws_security_group.database",
            {"ingress": [], "name": "orders-pg-1"},
            {"ingress": [{"from_port": 5432, "cidr_blocks": ["10.10.0.0/16"]}], "name": "orders-pg-1"},
        ),
        # a provider-owned timestamp
        drift("aws_db_instance.database", {"latest_restorable_time": "13:42", "address": "db"}, {"latest_restorable_time": "13:49", "address": "db"}),
    ]
}  # fmt: skip


def test_what_the_provider_reads_back_of_attributes_nothing_depends_on_is_not_drift():
    assert outside_changes(READ_BACK, {}) == []
    # relevant attributes of the normal plan that did not change are not drift either
    planned = {"relevant_attributes": [{"resource": "aws_db_instance.database", "attribute": ["address"]}]}
    assert outside_changes(READ_BACK, planned) == []


def test_a_change_to_an_attribute_the_plan_depends_on_is_drift_named_by_its_resource():
    planned = {
        "relevant_attributes": [
            {"resource": 'aws_cloudwatch_log_group.database["upgrade"]', "attribute": ["retention_in_days"]},
            {"resource": "aws_security_group.database", "attribute": ["ingress", 0, "cidr_blocks"]},
        ]
    }
    changed = {
        "resource_drift": [
            drift('aws_cloudwatch_log_group.database["upgrade"]', {"retention_in_days": 3}, {"retention_in_days": 7}),
            *READ_BACK["resource_drift"][1:],
        ]
    }
    assert outside_changes(changed, planned) == [
        'aws_cloudwatch_log_group.database["upgrade"]: update',
        "aws_security_group.database: update",  # the path exists only after: a rule appeared
    ]


def test_a_whole_resource_the_plan_reads_counts_for_each_instance_and_null_is_not_empty_there():
    planned = {"relevant_attributes": [{"resource": "aws_cloudwatch_log_group.database", "attribute": []}]}
    assert outside_changes(READ_BACK, planned) == []  # null read back as {}: the same
    renamed = {"resource_drift": [drift('aws_cloudwatch_log_group.database["upgrade"]', {"name": "a"}, {"name": "b"})]}
    assert outside_changes(renamed, planned) == ['aws_cloudwatch_log_group.database["upgrade"]: update']


def test_a_resource_removed_outside_terraform_is_always_drift():
    gone = {"resource_drift": [drift("aws_kinesis_stream.events", {"name": "events"}, None, ("delete",))]}
    assert outside_changes(gone, {}) == ["aws_kinesis_stream.events: delete"]
