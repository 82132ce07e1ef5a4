"""Choice rules of a Step Functions Choice state, checked as the service reads them.

A JSONPath rule is a data test (`Variable` and exactly one comparator, its operand of the comparator's
type) or a boolean one (exactly one of `And`/`Or`, a non-empty list of rules, or `Not`, one rule). A
JSONata rule is `Condition` alone. Only top-level rules carry `Next` (and `Assign`, `Output`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from toolkit.pipelines import placeholders
from toolkit.pipelines.asl_paths import is_path, looks_like_jsonata

Add = Callable[[tuple, str, str], None]
RULE = "asl:choice-rule"
LANGUAGE = "asl:query-language"
_ORDER = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
_OPERAND = {"String": "a string", "Numeric": "a number", "Boolean": "a boolean", "Timestamp": "an RFC 3339 timestamp"}
_OPS = {"String": (*_ORDER, "Matches"), "Numeric": _ORDER, "Boolean": ("Equals",), "Timestamp": _ORDER}
# comparator -> what its operand must be
COMPARATORS: dict[str, str] = {f"{kind}{op}": _OPERAND[kind] for kind, ops in _OPS.items() for op in ops}
COMPARATORS |= {f"{kind}{op}Path": "a path" for kind, ops in _OPS.items() for op in ops if op != "Matches"}
COMPARATORS |= {f"Is{t}": "a boolean" for t in ("Null", "Present", "Numeric", "String", "Boolean", "Timestamp")}
BOOLEAN = ("And", "Or", "Not")
TOP_ONLY = ("Next", "Assign", "Output")
# AWS: "an uppercase T must separate the date and the time, an uppercase Z must denote that a numeric
# time zone offset is not present"; fractional seconds are allowed.
_TIMESTAMP = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})\Z")


def is_timestamp(text: Any) -> bool:
    """An RFC 3339 date-time as Step Functions accepts it (`2026-03-14T01:59:00Z`, an offset, fractions)."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))  # catches month 13, Feb 30, hour 24
    except ValueError:
        return False
    return True


def check_rule(rule: Any, where: tuple, add: Add, *, top: bool, language: str) -> None:
    if not isinstance(rule, dict):
        return  # the schema says a rule is an object
    _fields(rule, where, add, top=top, language=language)
    if top and "Next" not in rule:
        add(where, RULE, "a top-level Choice rule needs Next")
    if language == "JSONata":
        _jsonata(rule, where, add)
    else:
        _jsonpath(rule, where, add, language)


def _fields(rule: dict, where: tuple, add: Add, *, top: bool, language: str) -> None:
    jsonpath_fields = {*COMPARATORS, "Variable", *BOOLEAN}
    jsonata = language == "JSONata"
    for key in rule:
        if key == "Comment" or (top and key in ("Next", "Assign")) or (jsonata and key == "Condition"):
            continue
        if key in TOP_ONLY and not top:
            add((*where, key), RULE, f"{key} is allowed only in a top-level Choice rule")
        elif key == "Output" and not jsonata:
            add((*where, key), LANGUAGE, "Output is a JSONata field; this rule uses JSONPath")
        elif jsonata and key in jsonpath_fields:
            what = "Variable" if key == "Variable" else f"{key} (a JSONPath Choice-rule field)"
            add((*where, key), LANGUAGE, f"JSONata Choice rules use Condition, not {what}")
        elif key == "Condition":
            add((*where, key), LANGUAGE, "Condition is a JSONata field; a JSONPath rule uses Variable and a comparator")
        elif key not in jsonpath_fields and key != "Output":
            add((*where, key), RULE, f"unknown field {key!r} in a Choice rule")


def _jsonata(rule: dict, where: tuple, add: Add) -> None:
    if "Condition" not in rule:
        if not any(key in rule for key in ("Variable", *COMPARATORS, *BOOLEAN)):  # else said by _fields
            add(where, RULE, "a JSONata Choice rule needs Condition")
        return
    condition = rule["Condition"]
    if isinstance(condition, bool):
        return
    plain = isinstance(condition, str) and not placeholders.contains(condition)
    if not isinstance(condition, str) or (plain and not looks_like_jsonata(condition)):
        add((*where, "Condition"), RULE, "Condition takes a '{% expression %}' (or true/false)")


def _jsonpath(rule: dict, where: tuple, add: Add, language: str) -> None:
    comparators = [key for key in rule if key in COMPARATORS]
    operators = [key for key in rule if key in BOOLEAN]
    if len(operators) > 1:
        add((*where, operators[1]), RULE, f"{' and '.join(operators)}: a rule has only one of And, Or, Not")
    elif operators and (comparators or "Variable" in rule):
        other = comparators[0] if comparators else "Variable"
        add((*where, other), RULE, f"{operators[0]} cannot be combined with {other} in the same rule")
    elif not operators:
        if len(comparators) > 1:
            add((*where, comparators[1]), RULE,
                f"one comparator per rule, found {', '.join(comparators)}; combine rules with And")  # fmt: skip
        elif not comparators:
            if "Condition" not in rule:  # else a JSONata rule in a JSONPath state: said by _fields
                add(where, RULE, "a Choice rule needs Variable and a comparator, or one of And, Or, Not")
        elif "Variable" not in rule:
            add(where, RULE, f"{comparators[0]} needs a Variable to compare")
    if "Variable" in rule:
        variable = rule["Variable"]
        if not isinstance(variable, str):
            add((*where, "Variable"), RULE, "Variable takes a path (a string)")
        elif not placeholders.contains(variable) and not is_path(variable, reference=True):
            add((*where, "Variable"), "asl:path", f"Variable {variable!r} is not a reference path")
    for key in comparators:
        _operand(key, rule[key], (*where, key), add)
    for key in ("And", "Or"):
        if key in rule:
            inner = rule[key]
            if not isinstance(inner, list) or not inner:
                add((*where, key), RULE, f"{key} takes a non-empty list of rules")
                continue
            for index, item in enumerate(inner):
                if not isinstance(item, dict):
                    add((*where, key, index), RULE, f"each rule in {key} is an object")
                check_rule(item, (*where, key, index), add, top=False, language=language)
    if "Not" in rule:
        if isinstance(rule["Not"], dict):
            check_rule(rule["Not"], (*where, "Not"), add, top=False, language=language)
        else:
            add((*where, "Not"), RULE, "Not takes one rule (an object)")


def _operand(key: str, value: Any, where: tuple, add: Add) -> None:
    wanted = COMPARATORS[key]
    if isinstance(value, str) and placeholders.contains(value):
        return  # typed by the binding check, and checked again after rendering
    if wanted == "a path":
        if not isinstance(value, str):
            add(where, RULE, f"{key} takes a path (a string), found {placeholders.describe(value)}")
        elif not is_path(value, reference=True):
            add(where, "asl:path", f"{value!r} is not a reference path")
        return
    ok = {
        "a string": isinstance(value, str),
        "a number": isinstance(value, int | float) and not isinstance(value, bool),
        "a boolean": isinstance(value, bool),
        "an RFC 3339 timestamp": is_timestamp(value),
    }[wanted]
    if not ok:
        found = f"{value!r}" if isinstance(value, str) else placeholders.describe(value)
        add(where, RULE, f"{key} takes {wanted}, found {found}")
