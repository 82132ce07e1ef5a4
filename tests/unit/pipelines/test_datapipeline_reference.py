"""Data Pipeline definitions against the object reference: types, fields, required fields along parent
and Default, scheduleType and period, with a did-you-mean where a name is close to a known one."""

from __future__ import annotations

from toolkit.pipelines.datapipeline import check


def found(*objects, **extra):
    return [(p.pointer, p.keyword, p.severity, p.message) for p in check({"objects": list(objects), **extra}, "x.json")]


DEFAULT = {"id": "Default", "scheduleType": "CRON", "role": "r", "resourceRole": "rr", "schedule": {"ref": "S"}}
SCHEDULE = {"id": "S", "type": "Schedule", "period": "15 minutes", "startDateTime": "2026-01-01T00:00:00"}


def test_a_well_formed_definition_passes_with_fields_inherited_from_default_and_parents():
    base = {"id": "Base", "workerGroup": "wg"}
    box = {"id": "Box", "type": "Ec2Resource", "terminateAfter": "2 Hours"}  # role, resourceRole from Default
    run = {"id": "Run", "type": "ShellCommandActivity", "parent": {"ref": "Base"}, "scriptUri": "s3://b/k",
           "myOwnNote": "user-defined", "@status": "runtime", "attemptTimeout": "#{myTimeout}"}  # fmt: skip
    db = {"id": "Db", "type": "RdsDatabase", "rdsInstanceId": "orders", "username": "u", "*password": "#{*myPw}"}
    params = [{"id": "myTimeout"}, {"id": "*myPw"}]
    assert found(DEFAULT, SCHEDULE, base, box, run, db, parameters=params) == []


def test_a_type_a_field_a_schedule_type_and_a_period_aws_would_refuse():
    assert found({"id": "A", "type": "ShellCommandActivty", "command": "true", "workerGroup": "w"}) == [
        ("/objects/0/type", "datapipeline:type", "error",
         "unknown object type 'ShellCommandActivty'; did you mean 'ShellCommandActivity'?"),
    ]  # fmt: skip
    assert found({"id": "A", "type": "ShellCommandActivity", "comand": "true", "workerGroup": "w"})[0][:3] == (
        "/objects/0/comand",
        "datapipeline:field",
        "error",
    )
    assert found({"id": "Default", "scheduleType": "weekly"})[0][1] == "datapipeline:scheduleType"
    assert [f[1] for f in found({**SCHEDULE, "period": "1 fortnight"})] == ["datapipeline:period"]
    assert found({**SCHEDULE, "period": "ONDEMAND_PERIOD"}) == []


def test_required_fields_and_groups_are_looked_for_along_the_chain():
    problems = found({"id": "Run", "type": "ShellCommandActivity", "runsOn": {"ref": "Run"}})
    assert [m for *_, m in problems] == ["ShellCommandActivity 'Run' needs one of 'command', 'scriptUri'"]
    assert found({"id": "Box", "type": "Ec2Resource"})[0][3].startswith("Ec2Resource 'Box' has no 'resourceRole'")


def test_a_field_of_another_type_or_far_from_every_known_one_only_warns():
    assert found({"id": "Default", "tableName": "t"}) == []  # Default may carry any field of any type
    assert found({"id": "C", "type": "CopyActivity", "workerGroup": "w", "tableName": "t"})[0][2] == "warning"
    legacy = found({"id": "C", "type": "CopyActivity", "workerGroup": "w", "somethingFromLongAgo": "x"})
    assert [(f[2], f[3]) for f in legacy] == [
        ("warning", "'somethingFromLongAgo' is not a field of CopyActivity in the object reference (AWS may refuse it)")
    ]
