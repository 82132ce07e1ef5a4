"""Bindings per environment, rendering and fingerprints, on in-memory pipelines and values."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from toolkit.pipelines import placeholders
from toolkit.pipelines.binding import Offered, check_offered, check_values, secret_reason
from toolkit.pipelines.catalog import Pipeline
from toolkit.pipelines.fingerprints import fingerprint
from toolkit.pipelines.load import loads
from toolkit.pipelines.rendering import render_text
from toolkit.project.values import Value, Values

TEXT = """{
  "$schema": "../schemas/asl.schema.json",
  "StartAt": "Copy",
  "States": {
    "Copy": {
      "Type": "Task",
      "Resource": "arn:aws:states:::glue:startJobRun.sync",
      "Parameters": {"JobName": "@@{project}-@@{environment}-copy", "Arguments": {"--db": "@@{database.host}",
        "--workers": "@@{workers:integer}", "--cmd": "echo ${HOME} #{myX} {% $x %}"}},
      "End": true
    }
  }
}"""


os.environ.setdefault("TOOLKIT_CACHE_DIR", "off")  # unit tests write no files, not even a cache


def pipeline(text: str = TEXT, file: str = "pipelines/copy.asl.json") -> Pipeline:
    loaded = loads(text, file)
    marks, _ = placeholders.find(loaded.data, file)
    return Pipeline("copy", "asl", Path(file), loaded, tuple(marks))


def tfvars(env: str, **items) -> dict[str, Value]:
    values = {k: Value(k, v, f"tfvars/{env}.tfvars.json") for k, v in items.items()}
    values["environment"] = Value("environment", env, "toolkit")
    return values


def offer(env: str, outputs=None, **items) -> Offered:
    return Offered(env, tfvars(env, **items), outputs if outputs is not None else {"database": False})


def test_bound_everywhere_means_no_problem():
    assert check_offered([pipeline()], offer("dev", project="orders", workers=2)) == []


def test_unbound_placeholder_names_the_environment_the_file_and_the_position():
    (problem,) = check_offered([pipeline()], offer("qa", project="orders"))
    assert (problem.environment, problem.file, problem.keyword) == (
        "qa",
        "pipelines/copy.asl.json",
        "values:unbound",
    )
    assert problem.pointer == "/States/Copy/Parameters/Arguments/--workers"
    assert (problem.line, problem.column) == (9, 9)
    assert "'workers'" in problem.message and "'qa'" in problem.message


def test_value_of_the_wrong_type_is_an_error():
    (problem,) = check_offered([pipeline()], offer("dev", project="orders", workers="two"))
    assert problem.keyword == "values:type"
    assert problem.message == "@@{workers} wants integer; tfvars/dev.tfvars.json gives a string"


def test_secrets_never_go_in_values():
    text = TEXT.replace("@@{workers:integer}", "@@{db_password}")
    (problem,) = check_offered([pipeline(text)], offer("dev", project="orders", db_password="hunter22"))
    assert problem.keyword == "values:secret"
    sensitive_output = offer("dev", outputs={"database": True}, project="o", workers=1)
    assert [p.keyword for p in check_offered([pipeline()], sensitive_output)] == ["values:secret"]
    assert secret_reason("connection", "postgres://app:pw@db:5432/x") == "its value looks like a URL with a password"
    assert secret_reason("key_id", "AKIAABCDEFGHIJKLMNOP") == "its value looks like an AWS access key id"
    assert secret_reason("db_password_file", ".toolkit/local/postgres/password") is None


def test_values_no_pipeline_uses_and_no_stack_declares_are_warned_about():
    found = check_offered([pipeline()], offer("dev", project="orders", workers=2, stray=1))
    assert [(p.keyword, p.severity, p.pointer) for p in found] == [("values:unused", "warning", "/stray")]
    declared = Offered("dev", tfvars("dev", project="o", workers=2, stray=1), {"database": False}, frozenset({"stray"}))
    assert check_offered([pipeline()], declared) == []


def test_resolved_values_are_checked_before_rendering():
    values = Values("dev", tfvars("dev", project="orders", workers=2))  # no database output
    (problem,) = check_values([pipeline()], values)
    assert problem.keyword == "values:unbound" and problem.pointer.endswith("/--db")


def values_for(env: str, host: str) -> Values:
    items = tfvars(env, project="orders", workers=2)
    items["database"] = Value("database", {"host": host, "port": 5432}, "output infra.database")
    return Values(env, items)


def test_rendering_is_deterministic_sorted_and_leaves_other_syntaxes_alone():
    text = render_text(pipeline().data, values_for("dev", "db.dev"))
    assert text == render_text(json.loads(TEXT), values_for("dev", "db.dev"))
    data = json.loads(text)
    assert "$schema" not in data
    arguments = data["States"]["Copy"]["Parameters"]["Arguments"]
    assert arguments == {"--cmd": "echo ${HOME} #{myX} {% $x %}", "--db": "db.dev", "--workers": 2}
    assert data["States"]["Copy"]["Parameters"]["JobName"] == "orders-dev-copy"
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"


def test_fingerprint_ignores_values_key_order_and_schema_but_not_code():
    source = pipeline().data
    reordered = json.loads(json.dumps(source, sort_keys=True))
    reordered.pop("$schema")
    assert fingerprint(source, "asl") == fingerprint(reordered, "asl")
    assert render_text(source, values_for("dev", "a")) != render_text(source, values_for("prod", "b"))
    changed = json.loads(TEXT.replace('"End": true', '"End": true, "Comment": "new"'))
    assert fingerprint(changed, "asl") != fingerprint(source, "asl")
    assert fingerprint(source, "asl") != fingerprint(source, "glue-job")
    assert fingerprint(source).startswith("sha256:") and len(fingerprint(source)) == 71


@pytest.mark.parametrize("host", ["db.dev", "db.prod"])
def test_rendered_output_holds_no_placeholder(host):
    assert "@@{" not in render_text(pipeline().data, values_for("dev", host))


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example


@pytest.mark.parametrize(
    ("name", "value", "what"),
    [
        ("auth_header", f"Bearer {JWT}", "a JSON Web Token"),
        ("alerts", "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX", "a Slack webhook URL"),
        ("aws_upload_key", "abcdefghijabcdefghijabcdefghijabcdefghij", "an AWS secret access key"),  # telling name
        ("upload_with", AWS_EXAMPLE_SECRET, "an AWS secret access key"),  # random enough without one
        ("settings", {"nested": {"deep": [AWS_EXAMPLE_SECRET]}}, "an AWS secret access key"),
        ("gh", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "an access token"),
    ],
)
def test_secret_values_are_recognised_by_shape(name, value, what):
    assert what in secret_reason(name, value)


@pytest.mark.parametrize(
    "value",
    [
        "0123456789abcdef0123456789abcdef01234567",  # a git commit id: hex
        "SomeVeryLongCamelCaseIdentifierName2024X",  # an identifier of words
        "data/Orders2024/Curated/Partitions/ABCxy",  # a path of words
        "s3://bucket/data/Orders2024/Curated/Partitions/ABCxyz/more",  # part of a longer run
        "https://hooks.example.com/services/T0000/B0000/XXXX",
        "eyJhbGciOiJIUzI1NiJ9",  # a JWT header alone is no token
        "abcdefghij" * 4,  # the shape of a secret key, but neither random nor named like one
    ],
)
def test_ordinary_values_are_not_taken_for_secrets(value):
    assert secret_reason("setting", value) is None


def test_object_values_with_secret_keys_are_secrets_but_the_database_contract_is_not():
    assert secret_reason("config", {"db": {"host": "h", "password": "pw"}}) == (
        "its key 'config.db.password' says it holds a secret"
    )
    assert secret_reason("config", [{"api_key": 12345}]) == "its key 'config.api_key' says it holds a secret"
    contract = {"host": "h", "port": 5432, "password_secret_arn": "arn:aws:secretsmanager:x", "password_file": None}
    assert secret_reason("database", contract) is None
    assert secret_reason("config", {"password": None, "token": ""}) is None  # nothing is there


def test_a_secret_looking_value_in_a_values_file_is_an_error_even_if_unused():
    text = '{\n  "project": "orders",\n  "stray": 1,\n  "slack": "https://hooks.slack.com/services/T1/B2/abcdefgh"\n}\n'
    files = {"tfvars/dev.tfvars.json": loads(text, "tfvars/dev.tfvars.json")}
    values = tfvars(
        "dev", project="orders", workers=2, stray=1, slack="https://hooks.slack.com/services/T1/B2/abcdefgh"
    )
    found = check_offered([pipeline()], Offered("dev", values, {"database": False}, files=files))
    assert [(p.file, p.line, p.column, p.pointer, p.keyword, p.environment) for p in found] == [
        ("tfvars/dev.tfvars.json", 3, 3, "/stray", "values:unused", "dev"),
        ("tfvars/dev.tfvars.json", 4, 3, "/slack", "values:unused", "dev"),
        ("tfvars/dev.tfvars.json", 4, 3, "/slack", "values:secret", None),
    ]
    assert "looks like a Slack webhook URL; secrets never go in values files" in found[2].message


def test_a_path_into_an_output_is_checked_against_the_attributes_its_stack_declares():
    keys = {"database": ("engine", "host", "name", "port", "username")}
    text = TEXT.replace("@@{database.host}", "@@{database.hots}").replace(
        "@@{workers:integer}", "@@{database.port:string}"
    )
    found = check_offered(
        [pipeline(text)], Offered("dev", tfvars("dev", project="o"), {"database": False}, output_keys=keys)
    )
    assert [(p.pointer, p.keyword, p.message) for p in found] == [
        ("/States/Copy/Parameters/Arguments/--db", "values:unbound",
         "@@{database.hots}: output 'database' has no attribute 'hots'; did you mean 'host'?"),
        ("/States/Copy/Parameters/Arguments/--workers", "values:type",
         "@@{database.port} wants string; the database output gives a number"),
    ]  # fmt: skip
    unknown_shape = Offered("dev", tfvars("dev", project="o", workers=1), {"database": False})
    assert check_offered([pipeline(text.replace("@@{database.port:string}", "@@{workers}"))], unknown_shape) == []


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), "x\ud800", {"deep": [float("-inf")]}])
def test_values_no_strict_json_file_can_hold_are_errors_not_rendered(bad):
    text = TEXT.replace("@@{workers:integer}", "@@{workers}")
    (problem,) = check_offered([pipeline(text)], offer("dev", project="orders", workers=bad))
    assert problem.keyword == "values:type" and "cannot hold" in problem.message
    with pytest.raises(ValueError):  # the last guard: rendering never writes NaN or Infinity
        render_text({"a": float("nan")}, values_for("dev", "h"))


def test_a_glue_jobs_fingerprint_includes_the_script_it_runs():
    from toolkit.pipelines.fingerprints import glue_script

    job = {
        "Name": "@@{project}-load",
        "Command": {"Name": "glueetl", "ScriptLocation": "s3://@@{data_bucket}/s/load.py"},
    }
    assert glue_script(job, "orders_load") == "load.py"
    assert glue_script({"Command": {"Name": "glueetl"}}, "orders_load") == "orders_load.py"  # the stacks' default
    same = fingerprint(job, "glue-job", {"load.py": "a" * 64})
    assert same == fingerprint(job, "glue-job", {"load.py": "a" * 64})
    assert same != fingerprint(job, "glue-job", {"load.py": "b" * 64}) != fingerprint(job, "glue-job")
    assert fingerprint(job, "glue-job") == fingerprint(job, "glue-job", {})  # no script: as before


def test_var_file_keys_with_a_slash_are_pointed_at_exactly():
    text = '{\n  "project": "orders",\n  "a/b": 1\n}\n'
    files = {"tfvars/dev.tfvars.json": loads(text, "tfvars/dev.tfvars.json")}
    offer_ = Offered("dev", tfvars("dev", project="orders", workers=2, **{"a/b": 1}), {"database": False}, files=files)
    (problem,) = check_offered([pipeline()], offer_)
    assert (problem.pointer, problem.line, problem.column) == ("/a~1b", 3, 3)
