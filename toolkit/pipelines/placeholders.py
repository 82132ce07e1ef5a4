"""Placeholders `@@{name}` / `@@{name:type}`: what a pipeline leaves to the environment.

`@@{` is written by no other syntax a pipeline file carries: Terraform `${…}`/`%{…}`, Data Pipeline
`#{…}`, JSONata `{% … %}`, JSONPath `$.`, shell `${VAR}`/`$VAR`, CloudFormation `${…}`. A string that
is exactly one placeholder takes the value with its JSON type; inside a longer string the value must be
a scalar and is written as text. Type `text` takes any scalar and always writes text (a port number
into a string field: `"@@{database.port:text}"`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.pipelines.problems import Problem, pointer_of

OPEN = "@@{"
TYPES = ("string", "number", "integer", "boolean", "object", "array", "any", "text")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*"
PLACEHOLDER = re.compile(r"@@\{(?P<name>" + _NAME + r")(?::(?P<type>[a-z]+))?\}")
_WHOLE = re.compile(r"\A" + PLACEHOLDER.pattern + r"\Z")
# `@@@{` writes a literal `@@{` (as Terraform's `$${` writes `${`); read left to right, it wins.
ESCAPE = "@@@{"
_TOKEN = re.compile(re.escape(ESCAPE) + "|" + PLACEHOLDER.pattern)
SYNTAX = "placeholder:syntax"


@dataclass(frozen=True)
class Placeholder:
    pointer: str
    name: str  # `name` or a dotted path into an object value, e.g. `database.host`
    type: str  # declared type; "any" when the whole string is the placeholder and none is declared
    whole: bool

    @property
    def head(self) -> str:
        return self.name.partition(".")[0]


def contains(text: str) -> bool:
    """Whether `text` holds a placeholder (or something meant as one): escapes `@@@{` do not count."""
    return OPEN in text and OPEN in text.replace(ESCAPE, "")


def unescape(text: str) -> str:
    return text.replace(ESCAPE, OPEN)


def find(data: Any, file: str = "") -> tuple[list[Placeholder], list[Problem]]:
    """Every placeholder in string values, and malformed ones (`@@{` not followed by name and `}`)."""
    found: list[Placeholder] = []
    problems: list[Problem] = []
    for path, text in _strings(data, ()):
        if OPEN not in text:
            continue
        pointer = pointer_of(path)
        whole = _WHOLE.match(text)
        matches = [whole] if whole else [m for m in _TOKEN.finditer(text) if m.group() != ESCAPE]
        for match in matches:
            declared = match.group("type")
            if declared is not None and declared not in TYPES:
                problems.append(
                    Problem(file, 0, 0, pointer, SYNTAX, f"unknown type {declared!r} (one of {', '.join(TYPES)})")
                )
                continue
            default = "any" if whole else "scalar"
            found.append(Placeholder(pointer, match.group("name"), declared or default, bool(whole)))
        if not whole and OPEN in _TOKEN.sub("", text):
            problems.append(
                Problem(
                    file,
                    0,
                    0,
                    pointer,
                    SYNTAX,
                    "malformed placeholder: write @@{name} or @@{name:type} (name: letters, digits, _ and dots);"
                    " a literal @@{ is written @@@{",
                )
            )
    for path in _keys_with_placeholders(data, ()):
        problems.append(Problem(file, 0, 0, pointer_of(path), KEY, IN_KEY))
    return found, problems


KEY = "placeholder:key"
IN_KEY = (
    "placeholders are not filled in object keys (a key that changed per environment could collide "
    "with another or break a reference to it): use a fixed key, and put the placeholder in its value"
)


def _keys_with_placeholders(value: Any, path: tuple) -> Iterator[tuple]:
    if isinstance(value, dict):
        for key, item in value.items():
            if contains(key):
                yield (*path, key)
            yield from _keys_with_placeholders(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _keys_with_placeholders(item, (*path, index))


def _strings(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def type_matches(value: Any, declared: str) -> bool:
    if declared == "any":
        return True
    if declared in ("scalar", "text"):
        return isinstance(value, str | int | float) and not isinstance(value, bool) or isinstance(value, bool)
    checks = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }
    return checks[declared](value)


def unrepresentable(value: Any) -> str | None:
    """Why a value cannot go into a strict JSON file (var files are read leniently), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"the non-finite number {value!r}, which JSON cannot hold"
    if isinstance(value, str) and _SURROGATE.search(value):
        return "a string with a lone UTF-16 surrogate, which UTF-8 cannot hold"
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    keys = [k for k in value if isinstance(k, str)] if isinstance(value, dict) else []
    return next(filter(None, map(unrepresentable, [*keys, *items])), None)


_SURROGATE = re.compile("[\ud800-\udfff]")


def describe(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def substitute(data: Any, lookup: Mapping[str, Any]) -> Any:
    """`data` with every placeholder replaced; `lookup` maps placeholder names to plain values."""
    if isinstance(data, str):
        if OPEN not in data:
            return data
        whole = _WHOLE.match(data)
        if whole:
            value = lookup[whole.group("name")]
            return _text(value) if whole.group("type") == "text" else value
        return _TOKEN.sub(lambda m: OPEN if m.group() == ESCAPE else _text(lookup[m.group("name")]), data)
    if isinstance(data, dict):
        return {unescape(key): substitute(item, lookup) for key, item in data.items()}
    if isinstance(data, list):
        return [substitute(item, lookup) for item in data]
    return data


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
