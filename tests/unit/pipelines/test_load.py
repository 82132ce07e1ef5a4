"""Strict JSON loading: what is rejected, and where each error is reported."""

from __future__ import annotations

import pytest

from toolkit.pipelines.load import loads


def where(text: str) -> list[tuple[int, int, str, str]]:
    return [(p.line, p.column, p.pointer, p.keyword) for p in loads(text, "f.json").problems]


def test_valid_document_parses_and_positions_are_found_lazily():
    loaded = loads('{\n  "a": {\n    "b": [1, {"c": 2}]\n  }\n}', "f.json")
    assert loaded.ok and loaded.data == {"a": {"b": [1, {"c": 2}]}}
    assert loaded.position("/a/b/1/c") == (3, 15)
    assert loaded.position("/a/missing/deeper") == (2, 3)  # nearest ancestor that exists


def test_every_duplicate_key_is_reported_at_its_second_occurrence():
    text = '{\n  "a": 1,\n  "a": 2,\n  "b": {"c": 1, "c": 2}\n}'
    assert where(text) == [(3, 3, "/a", "json:duplicate-key"), (4, 17, "/b/c", "json:duplicate-key")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', (1, 8, "", "json:syntax")),
        ('{"a": [1, 2,]}', (1, 12, "/a", "json:syntax")),
        ('{"a": "x\ny"}', (1, 9, "/a", "json:syntax")),
        ('{"a": NaN}', (1, 7, "/a", "json:syntax")),
        ('{"a": -Infinity}', (1, 7, "/a", "json:syntax")),
        ('{"a": 1} {"b": 2}', (1, 10, "", "json:syntax")),
        ('{"a": "open', (1, 7, "/a", "json:syntax")),
        ("{'a': 1}", (1, 2, "", "json:syntax")),
        ('{"a": 01}', (1, 8, "", "json:syntax")),
        ('{"a": "\\x"}', (1, 8, "/a", "json:syntax")),
    ],
)
def test_non_strict_json_is_rejected_with_its_position(text, expected):
    assert where(text) == [expected]


def test_messages_say_what_was_expected():
    (problem,) = loads('{"a": 1 "b": 2}', "f.json").problems
    assert problem.message == "expected ',' or '}' after an object member"
    (problem,) = loads('{"a": "tab\there"}', "f.json").problems
    assert problem.message.startswith("control character U+0009 in a string")
    (problem,) = loads("[1, 2,]", "f.json").problems
    assert problem.message == "trailing comma before ']'"


def test_byte_order_mark_is_rejected():
    assert where('\ufeff{"a": 1}') == [(1, 1, "", "json:syntax")]


def test_problem_renders_as_file_line_column_pointer_message_keyword():
    (problem,) = loads('{"a": 1,\n "a": 2}', "p/x.json").problems
    assert str(problem) == (
        "p/x.json:2:2: /a: duplicate key 'a' (JSON parsers disagree on which wins) (json:duplicate-key)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "\\ud800"}', (1, 8, "/a", "json:syntax")),
        ('{"a": ["ok", "x\\udc00"]}', (1, 16, "/a/1", "json:syntax")),
        ('{"a": 1e400}', (1, 7, "/a", "json:syntax")),
        ('{\n  "a": [1, -1.5e309]\n}', (2, 12, "/a/1", "json:syntax")),
        ('{"a": ' + "9" * 5000 + "}", (1, 7, "/a", "json:syntax")),
    ],
)
def test_lone_surrogates_and_numbers_no_double_holds_are_rejected_where_they_are(text, expected):
    assert where(text) == [expected]


def test_surrogate_pairs_escaped_backslashes_and_large_finite_numbers_are_fine():
    loaded = loads('{"a": "\\ud83d\\ude00", "b": "\\\\ud800", "c": 1.7e308}', "f.json")
    assert loaded.ok and loaded.data == {"a": "\U0001f600", "b": "\\ud800", "c": 1.7e308}
    (problem,) = loads('{"a": 1e400}', "f.json").problems
    assert problem.message == "number 1e400 is out of range: it would be read as Infinity"
    assert where('{"a": "\\ud800\\ud800", "b": 1e999}') == [  # every one, not only the first
        (1, 8, "/a", "json:syntax"), (1, 14, "/a", "json:syntax"), (1, 28, "/b", "json:syntax")
    ]  # fmt: skip
    (problem,) = loads('{"a": "\\udc00"}', "f.json").problems
    assert problem.message.startswith("lone UTF-16 surrogate \\udc00 in a string")
