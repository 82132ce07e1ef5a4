"""Schema error messages say what was expected, briefly: never the whole offending value."""

from __future__ import annotations

import os

from toolkit.pipelines import kinds

os.environ.setdefault("TOOLKIT_CACHE_DIR", "off")  # unit tests write no files, not even a cache


def messages(definition: dict, kind: str) -> dict[str, str]:
    return {p.pointer: p.message for p in kinds.check(definition, f"x.{kind}.json", kind)}


def test_any_of_and_one_of_say_what_each_alternative_wants_and_why_the_value_missed():
    task = {"Type": "Task", "Resource": {"Ref": "x", "Fn::GetAtt": ["a", "b"]}, "End": True}
    found = messages({"StartAt": "A", "States": {"A": task}}, "asl")
    assert found["/States/A/Resource"] == (
        "expected a string or an object with Ref or Fn::GetAtt or Fn::Sub or Fn::Join or Fn::ImportValue "
        "(one field); found an object (has 2 field(s) (Fn::GetAtt, Ref); at most 1)"
    )
    big = {f"field{i}": "v" * 50 for i in range(30)}
    pipeline = {"objects": [{"id": "a", "name": "a", "myField": dict(big, ref="b")}]}  # a user field: any value
    message = messages(pipeline, "datapipeline")["/objects/0/myField"]
    assert message.startswith("expected a string or an object with ref or an array of (a string or an object")
    assert "v" * 50 not in message and "unknown field(s) 'field0'" in message


def test_max_properties_names_the_fields_not_their_values():
    task = {"Type": "Task", "Resource": {"Ref": "x" * 500, "Fn::Sub": "y" * 500}, "End": True}
    message = messages({"StartAt": "A", "States": {"A": task}}, "asl")["/States/A/Resource"]
    assert "x" * 60 not in message and "(Fn::Sub, Ref); at most 1" in message
