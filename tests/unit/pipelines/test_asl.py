"""Step Functions checks on in-memory definitions: scopes, flow, names, exclusive fields, paths, JSONata."""

from __future__ import annotations

import os

import pytest

from toolkit.pipelines import kinds
from toolkit.pipelines.asl_paths import intrinsic_error, is_path, jsonata_error

os.environ.setdefault("TOOLKIT_CACHE_DIR", "off")  # unit tests write no files, not even a cache


def problems(definition: dict) -> list[tuple[str, str]]:
    return [(p.pointer, p.keyword) for p in kinds.check(definition, "m.asl.json", "asl")]


def machine(**states) -> dict:
    return {"StartAt": next(iter(states)), "States": states}


def test_a_small_valid_machine_passes():
    assert problems(machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Succeed"})) == []


def test_unreachable_state_and_missing_target():
    found = problems(machine(A={"Type": "Pass", "Next": "Nope"}, B={"Type": "Succeed"}))
    assert ("/States/A/Next", "asl:target") in found
    assert ("/States/B", "asl:reachable") in found


def test_a_loop_with_no_way_out_cannot_end():
    found = problems(machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"}))
    assert found == [("/States/A", "asl:can-end"), ("/States/B", "asl:can-end")]


def test_a_branch_cannot_jump_out_of_its_parallel():
    branch = {"StartAt": "In", "States": {"In": {"Type": "Pass", "Next": "Out"}}}
    definition = machine(P={"Type": "Parallel", "Branches": [branch], "Next": "Out"}, Out={"Type": "Succeed"})
    found = kinds.check(definition, "m.asl.json", "asl")
    target = next(p for p in found if p.keyword == "asl:target")
    assert target.pointer == "/States/P/Branches/0/States/In/Next"
    assert "cannot jump out of its scope" in target.message


def test_state_names_are_unique_in_the_whole_machine_and_at_most_80_characters():
    inner = {"StartAt": "Same", "States": {"Same": {"Type": "Succeed"}}}
    definition = machine(
        M={"Type": "Map", "ItemProcessor": inner, "Next": "Same"}, Same={"Type": "Pass", "Next": "x" * 81}
    )
    definition["States"]["x" * 81] = {"Type": "Succeed"}
    found = problems(definition)
    assert ("/States/M/ItemProcessor/States/Same", "asl:unique-name") in found
    assert ("/States/Same", "asl:unique-name") in found
    assert ("/States/" + "x" * 81, "asl:state-name") in found


@pytest.mark.parametrize(
    ("state", "pointer"),
    [
        ({"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t", "End": True}, "/States/A/TimestampPath"),
        ({"Type": "Task", "Resource": "arn:aws:states:::x", "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t",
          "End": True}, "/States/A/TimeoutSecondsPath"),
        ({"Type": "Fail", "Cause": "c", "CausePath": "$.c"}, "/States/A/CausePath"),
    ],
)  # fmt: skip
def test_mutually_exclusive_fields(state, pointer):
    assert (pointer, "asl:mutually-exclusive") in problems(machine(A=state))


def test_next_and_end_together_or_neither():
    assert problems(machine(A={"Type": "Pass", "Next": "A", "End": True})) == [("/States/A", "asl:next-or-end")]
    assert ("/States/A", "asl:next-or-end") in problems(machine(A={"Type": "Pass"}))


def test_jsonpath_and_jsonata_fields_stay_in_their_own_states():
    assert problems(machine(A={"Type": "Pass", "Output": "{% 1 %}", "End": True})) == [
        ("/States/A/Output", "asl:query-language")
    ]
    jsonata = {"Type": "Pass", "QueryLanguage": "JSONata", "ResultPath": "$.x", "End": True}
    assert problems(machine(A=jsonata)) == [("/States/A/ResultPath", "asl:query-language")]
    bad_expression = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $sum( %}", "End": True}
    assert problems(machine(A=bad_expression)) == [("/States/A/Output", "asl:jsonata")]


def test_choice_rules():
    choice = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.n", "NumericEquals": 1, "End": True},
            {"Variable": "States.X()", "Next": "B"},
        ],
        "Default": "B",
    }
    found = problems(machine(A=choice, B={"Type": "Succeed"}))
    assert ("/States/A/Choices/0/End", "asl:choice-rule") in found
    assert ("/States/A/Choices/0", "asl:choice-rule") in found  # no Next
    assert ("/States/A/Choices/1/Variable", "asl:path") in found


def test_payload_templates_check_paths_and_duplicate_fields():
    params = {"a": 1, "a.$": "$.a", "b.$": "not a path", "c.$": "States.Format('{}', $.x)"}
    found = problems(machine(A={"Type": "Pass", "Parameters": params, "End": True}))
    assert found == [
        ("/States/A/Parameters/a.$", "asl:duplicate-field"),
        ("/States/A/Parameters/b.$", "asl:path"),
    ]


def test_placeholders_are_not_judged_as_values():
    task = {"Type": "Task", "Resource": "@@{job_arn}", "TimeoutSeconds": "@@{timeout:integer}", "End": True}
    assert problems(machine(A=task)) == []


@pytest.mark.parametrize(
    ("path", "reference", "ok"),
    [
        ("$", True, True),
        ("$.a.b[0]", True, True),
        ("$['a b']", True, True),
        ("$..a", True, False),
        ("$..a", False, True),
        ("$.a[*]", True, False),
        ("$.a[?(@.x > 1)]", False, True),
        ("a.b", False, False),
        ("$...", False, False),
    ],
)
def test_paths(path, reference, ok):
    assert is_path(path, reference=reference) is ok


def test_intrinsic_functions_and_jsonata_templates():
    assert intrinsic_error("States.MathAdd($.a, 1)") is None
    assert "numbers or paths" in intrinsic_error("States.MathAdd(1, 'x')")
    assert "takes 1 argument" in intrinsic_error("States.ArrayLength($.a, $.b)")
    assert "unknown intrinsic" in intrinsic_error("States.Nope()")
    assert jsonata_error("{% $states.input.a  %}") is None
    assert jsonata_error("{%1%}") is None  # AWS's own samples write {%$lowercase(…) %}
    assert jsonata_error("{%$lowercase($states.input.name) %}") is None
    assert "no line break" in jsonata_error("{%\n1 %}")
    assert "no line break" in jsonata_error(" {% 1 %}")  # a literal string for Step Functions: surely a slip
    assert "no line break" in jsonata_error("{% %}")
    assert jsonata_error("{% 1 + %}").startswith("JSONata syntax error")


def choice(*rules, language: str | None = None) -> dict:
    state = {"Type": "Choice", "Choices": list(rules), "Default": "B"}
    if language:
        state["QueryLanguage"] = language
    return machine(A=state, B={"Type": "Succeed"})


def test_nested_choice_rules_are_checked_like_top_level_ones_without_next():
    nested = {
        "And": [
            {"Variable": "$.a", "IsPresent": True},
            {"Not": {"Variable": "$.b", "StringEquals": "x"}},
            {"Or": [{"Variable": "$.c", "NumericLessThanPath": "$.d"}, {"Variable": "$.e", "BooleanEquals": False}]},
        ],
        "Next": "B",
    }
    assert problems(choice(nested)) == []
    broken = {"Or": [{"Variable": "$.a", "IsPresent": True, "Next": "B"}, {"Variable": "$.b"}, 3], "Next": "B"}
    assert problems(choice(broken)) == [
        ("/States/A/Choices/0/Or/0/Next", "asl:choice-rule"),
        ("/States/A/Choices/0/Or/1", "asl:choice-rule"),  # Variable without a comparator
        ("/States/A/Choices/0/Or/2", "asl:choice-rule"),
    ]


@pytest.mark.parametrize(
    ("stamp", "ok"),
    [
        ("2026-03-14T01:59:00Z", True),
        ("2026-03-14T01:59:00.123+02:00", True),
        ("2026-03-14t01:59:00z", False),
        ("2026-03-14 01:59:00Z", False),
        ("2026-13-14T01:59:00Z", False),
        ("2026-03-14T01:59:00", False),
    ],
)
def test_timestamp_comparators_take_rfc3339(stamp, ok):
    found = problems(choice({"Variable": "$.t", "TimestampGreaterThan": stamp, "Next": "B"}))
    assert (found == []) is ok


def test_comparator_operands_may_be_placeholders_and_jsonata_rules_take_only_condition():
    assert problems(choice({"Variable": "$.n", "NumericEquals": "@@{limit:number}", "Next": "B"})) == []
    jsonata = choice({"Condition": "{% $states.input.n > 1 %}", "Output": {"x": 1}, "Next": "B"}, language="JSONata")
    assert problems(jsonata) == []
    assert problems(choice({"Condition": "n > 1", "Next": "B"}, language="JSONata")) == [
        ("/States/A/Choices/0/Condition", "asl:choice-rule")
    ]
    assert problems(choice({"Variable": "$.n", "IsNull": True, "Output": 1, "Next": "B"})) == [
        ("/States/A/Choices/0/Output", "asl:query-language")
    ]
