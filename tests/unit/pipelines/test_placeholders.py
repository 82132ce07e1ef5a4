"""Placeholders: found, typed, substituted; every other syntax a pipeline carries passes through."""

from __future__ import annotations

import pytest

from toolkit.pipelines.placeholders import find, substitute, type_matches

OTHER_SYNTAXES = [
    "${lambdaArn}",  # Terraform / CloudFormation interpolation
    "%{ if x }y%{ endif }",  # Terraform directive
    "#{myS3Path}/#{format(@scheduledStartTime, 'YYYY')}",  # Data Pipeline expressions
    "{% $states.input.items %}",  # JSONata
    "$.detail.id",  # JSONPath
    "$$.Execution.Name",  # context object
    "psql -h ${DB_HOST} -p $DB_PORT && echo ${HOME:-/root}",  # shell
    "raw/!{timestamp:yyyy/MM/dd}/",  # Firehose prefix namespaces
    "user@example.com @{x} @@ {y}",  # an at-sign is not a placeholder
]


@pytest.mark.parametrize("text", OTHER_SYNTAXES)
def test_other_syntaxes_are_not_placeholders_and_pass_through_untouched(text):
    document = {"a": text, "b": [text, {"c": text}]}
    assert find(document) == ([], [])
    assert substitute(document, {}) == document


def test_other_syntaxes_survive_next_to_a_placeholder():
    text = "psql -h ${DB_HOST} -d @@{db} -c '#{myQuery}' {% $x %}"
    assert substitute(text, {"db": "orders"}) == "psql -h ${DB_HOST} -d orders -c '#{myQuery}' {% $x %}"


def test_found_with_pointer_name_type_and_whether_it_is_the_whole_string():
    marks, problems = find({"Port": "@@{database.port:integer}", "Uri": "s3://@@{bucket}/x/@@{environment}"})
    assert problems == []
    assert [(m.pointer, m.name, m.type, m.whole) for m in marks] == [
        ("/Port", "database.port", "integer", True),
        ("/Uri", "bucket", "scalar", False),
        ("/Uri", "environment", "scalar", False),
    ]
    assert marks[0].head == "database"


@pytest.mark.parametrize("text", ["@@{}", "@@{bad name}", "@@{x", "@@{1x}", "@@{x:float}"])
def test_malformed_placeholders_are_errors(text):
    marks, problems = find({"a": text})
    assert problems and problems[0].keyword == "placeholder:syntax" and problems[0].pointer == "/a"


def test_whole_string_placeholder_keeps_the_value_type():
    document = {"n": "@@{workers}", "o": "@@{tags}", "s": "@@{port:text}", "e": "x-@@{port}"}
    rendered = substitute(document, {"workers": 2, "tags": {"a": "b"}, "port": 5432})
    assert rendered == {"n": 2, "o": {"a": "b"}, "s": "5432", "e": "x-5432"}


@pytest.mark.parametrize(
    ("value", "declared", "ok"),
    [
        ("x", "string", True),
        (1, "string", False),
        (1, "integer", True),
        (1.5, "integer", False),
        (True, "integer", False),
        (True, "boolean", True),
        ({"a": 1}, "scalar", False),
        (5432, "text", True),
        ([1], "array", True),
        (None, "any", True),
    ],
)
def test_type_matches(value, declared, ok):
    assert type_matches(value, declared) is ok


def test_a_placeholder_in_an_object_key_is_rejected_not_left_behind():
    document = {"Tags": {"@@{project}-owner": "data", "plain": {"deep-@@{x}": 1}}, "ok": "@@{project}"}
    marks, problems = find(document, "f.json")
    assert [m.name for m in marks] == ["project"]
    assert [(p.pointer, p.keyword) for p in problems] == [
        ("/Tags/@@{project}-owner", "placeholder:key"),
        ("/Tags/plain/deep-@@{x}", "placeholder:key"),
    ]
    assert "not filled in object keys" in problems[0].message


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("@@@{x}", "@@{x}"),  # the escape: a literal @@{
        ("echo '@@@{not_a_value}' && run @@{x}", "echo '@@{not_a_value}' && run 1"),
        ("@@@@{x}", "@@@{x}"),  # read left to right: '@' then the escape
        ("@@@{", "@@{"),
    ],
)
def test_a_literal_at_at_brace_is_written_with_three_at_signs(text, rendered):
    marks, problems = find({"a": text, "b": {"@@@{key}": 1}})
    assert problems == []
    assert [m.name for m in marks] == (["x"] if "run @@{x}" in text else [])
    assert substitute({"a": text, "b": {"@@@{key}": 1}}, {"x": 1}) == {"a": rendered, "b": {"@@{key}": 1}}


def test_type_any_takes_every_json_value_and_inside_text_writes_json():
    marks, _ = find({"a": "@@{cfg:any}", "b": "cfg=@@{cfg:any}"})
    assert [(m.type, m.whole) for m in marks] == [("any", True), ("any", False)]
    assert all(type_matches(v, "any") for v in ({"k": [1]}, [1], "s", 1, True, None))
    assert substitute({"a": "@@{cfg:any}", "b": "cfg=@@{cfg:any}"}, {"cfg": {"k": [1]}}) == {
        "a": {"k": [1]},
        "b": 'cfg={"k": [1]}',
    }
