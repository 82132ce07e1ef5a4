"""Strict JSON loading with positions: duplicate keys, trailing commas, control characters, NaN, numbers
too large for a double (1e400 would become Infinity) and lone UTF-16 surrogates ("\ud800") rejected.

Valid files take the fast path (the C parser plus a duplicate-key hook); only a file that fails it, or
a file some later check reports on, is scanned again by `_Scanner` to find lines and columns.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from toolkit.pipelines.problems import Problem, pointer_of, split_pointer
from toolkit.support.limits import PIPELINE_FILE_MAX_BYTES, TooLarge, read_capped

SYNTAX = "json:syntax"
_UNPARSED = object()
DUPLICATE = "json:duplicate-key"


class _Rejected(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Rejected("duplicate key")
    return obj


def _constant(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Rejected("number out of range")
    return number


# A \u escape of a UTF-16 surrogate: valid only as a high one directly followed by a low one. The C
# parser lets a lone one through (a str no encoder accepts), so such files go to the scanner.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


@dataclass(frozen=True)
class Loaded:
    """One file as read: its text, the parsed data (None when it did not parse), and parse problems."""

    file: str
    text: str
    data: Any
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @cached_property
    def _positions(self) -> dict[str, tuple[int, int]]:
        scanner = _Scanner(self.text, self.file)
        scanner.run()
        return scanner.positions

    def position(self, pointer: str) -> tuple[int, int]:
        """Line and column (1-based) of the member or value at `pointer`, or of its nearest ancestor."""
        parts = split_pointer(pointer)
        while True:
            found = self._positions.get(pointer_of(parts))
            if found is not None:
                return found
            if not parts:
                return (1, 1)
            parts.pop()

    def locate(self, problem: Problem) -> Problem:
        return problem.located(*self.position(problem.pointer))


def loads(text: str, file: str) -> Loaded:
    if text.startswith("\ufeff"):
        return Loaded(file, text, None, (Problem(file, 1, 1, "", SYNTAX, "starts with a byte-order mark"),))
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)
    except (ValueError, RecursionError) as exc:
        scanner = _Scanner(text, file)
        scanner.run()
        if scanner.problems:
            return Loaded(file, text, None, tuple(scanner.problems))
        line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        return Loaded(file, text, None, (Problem(file, line, column, "", SYNTAX, str(exc)),))
    if _SURROGATE_ESCAPE.search(text):  # most are pairs, or an escaped backslash: the scanner tells
        scanner = _Scanner(text, file)
        scanner.run()
        if scanner.problems:
            return Loaded(file, text, None, tuple(scanner.problems))
    return Loaded(file, text, data)


def load(path: Path, shown: str | None = None) -> Loaded:
    shown = shown or str(path)
    text = read_text(path, shown)
    return text if isinstance(text, Loaded) else loads(text, shown)


def read_text(path: Path, shown: str) -> str | Loaded:
    """The file's text, or, when it cannot be read as UTF-8 within the size limit, a Loaded that says why."""
    try:
        return read_capped(path, PIPELINE_FILE_MAX_BYTES).decode("utf-8")
    except TooLarge as exc:
        message = f"pipeline file {exc}; split it (one pipeline per file) or keep data out of it"
        return Loaded(shown, "", None, (Problem(shown, 1, 1, "", "file:size", message),))
    except UnicodeDecodeError as exc:
        return Loaded(shown, "", None, (Problem(shown, 1, 1, "", SYNTAX, f"not UTF-8: {exc.reason}"),))
    except OSError as exc:
        return Loaded(shown, "", None, (Problem(shown, 1, 1, "", "file:read", f"cannot read: {exc}"),))


def known_valid(text: str, file: str) -> Loaded:
    """A text that `loads` accepted before (same bytes, see pipelines/verdicts.py): parsed only when its
    data is first asked for (a warm `validate` of Step Functions files never asks), and then by the C
    parser alone, which gives the same data, the strictness hooks having nothing left to find."""
    return _KnownValid(file, text)


class _KnownValid(Loaded):
    """A Loaded whose `data` field is filled in on first use: until then it is absent from the instance,
    and `__getattr__`, which Python calls only for an absent attribute, parses the text."""

    def __init__(self, file: str, text: str, data: Any = _UNPARSED, problems: tuple = ()) -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "problems", problems)
        if data is not _UNPARSED:
            object.__setattr__(self, "data", data)

    def __eq__(self, other: object) -> bool:  # equal to the Loaded `loads` gives for the same text
        if not isinstance(other, Loaded):
            return NotImplemented
        return (self.file, self.text, self.data, self.problems) == (other.file, other.text, other.data, other.problems)

    __hash__ = Loaded.__hash__

    def __getattr__(self, name: str) -> Any:
        if name != "data":
            raise AttributeError(name)
        data = json.loads(self.text)
        object.__setattr__(self, "data", data)
        return data


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING_BODY = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPE = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[+-]?Infinity")


class _SyntaxStop(Exception):
    pass


class _Scanner:
    """A strict recursive-descent JSON scanner that records where every member and value starts."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.index = 0
        self.problems: list[Problem] = []
        self.positions: dict[str, tuple[int, int]] = {}
        self._lines = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._lines, index)
        return line, index - self._lines[line - 1] + 1

    def fail(self, message: str, index: int | None = None, path: tuple = (), keyword: str = SYNTAX) -> None:
        line, column = self.where(self.index if index is None else index)
        self.problems.append(Problem(self.file, line, column, pointer_of(path), keyword, message))

    def stop(self, message: str, index: int | None = None, path: tuple = ()) -> _SyntaxStop:
        self.fail(message, index, path)
        return _SyntaxStop()

    def run(self) -> None:
        try:
            self.ws()
            self.value(())
            self.ws()
            if self.index < len(self.text):
                raise self.stop("unexpected text after the JSON document")
        except _SyntaxStop:
            pass
        except RecursionError:
            self.fail("nested too deeply")

    def ws(self) -> None:
        self.index = _WS.match(self.text, self.index).end()

    def peek(self) -> str:
        return self.text[self.index : self.index + 1]

    def value(self, path: tuple) -> Any:
        self.positions.setdefault(pointer_of(path), self.where(self.index))
        char = self.peek()
        if char == "{":
            return self.object(path)
        if char == "[":
            return self.array(path)
        if char == '"':
            return self.string(path)
        number = _NUMBER.match(self.text, self.index)
        if number and number.end() > self.index:
            try:
                value = json.loads(number.group())
            except ValueError:  # an integer with more digits than Python converts
                raise self.stop(f"number {number.group()[:20]}... has too many digits", path=path) from None
            if isinstance(value, float) and not math.isfinite(value):  # well-formed: go on, report all
                self.fail(f"number {number.group()} is out of range: it would be read as Infinity", path=path)
            self.index = number.end()
            return value
        word = _WORD.match(self.text, self.index)
        if word:
            literal = word.group()
            if literal in ("true", "false", "null"):
                self.index = word.end()
                return {"true": True, "false": False, "null": None}[literal]
            raise self.stop(
                f"{literal!r} is not a JSON value (expected a string, number, true, false or null)", path=path
            )
        if not char:
            raise self.stop("unexpected end of file: a value was expected")
        raise self.stop(f"unexpected character {char!r}: a value was expected")

    def string(self, path: tuple) -> str:
        start = self.index
        self.index += 1
        while True:
            self.index = _STRING_BODY.match(self.text, self.index).end()
            char = self.peek()
            if char == '"':
                self.index += 1
                return json.loads(self.text[start : self.index])
            if char == "\\":
                escape = _ESCAPE.match(self.text, self.index)
                if not escape:
                    raise self.stop("invalid escape sequence in string", path=path)
                self.index = self.surrogate(escape.group(), escape.end(), path)
            elif not char:
                raise self.stop("unterminated string", start, path)
            else:
                raise self.stop(
                    f"control character U+{ord(char):04X} in a string: write it escaped (e.g. \\n, \\t)",
                    path=path,
                )

    def surrogate(self, escape: str, end: int, path: tuple) -> int:
        """Where the escape ends; a high surrogate needs a low one right after it, a low one a high one."""
        code = int(escape[2:], 16) if escape.startswith("\\u") else 0
        if 0xD800 <= code <= 0xDBFF:
            following = _ESCAPE.match(self.text, end)
            low = following.group() if following else ""
            if low.startswith("\\u") and 0xDC00 <= int(low[2:], 16) <= 0xDFFF:
                return following.end()
        if 0xD800 <= code <= 0xDFFF:
            self.fail(
                f"lone UTF-16 surrogate {escape} in a string: no UTF-8 text can hold it (write the character, "
                "or a high and low surrogate pair)",
                path=path,
            )
        return end

    def object(self, path: tuple) -> dict:
        self.index += 1
        self.ws()
        result: dict[str, Any] = {}
        if self.peek() == "}":
            self.index += 1
            return result
        while True:
            if self.peek() != '"':
                raise self.stop("expected a member name in double quotes", path=path)
            key_at = self.index
            key = self.string(path)
            member = (*path, key)
            if key in result:
                self.fail(f"duplicate key {key!r} (JSON parsers disagree on which wins)", key_at, member, DUPLICATE)
            else:
                self.positions[pointer_of(member)] = self.where(key_at)
            self.ws()
            if self.peek() != ":":
                raise self.stop("expected ':' after the member name", path=member)
            self.index += 1
            self.ws()
            result[key] = self.value(member)
            self.ws()
            char = self.peek()
            if char == "}":
                self.index += 1
                return result
            if char != ",":
                raise self.stop("expected ',' or '}' after an object member", path=path)
            comma = self.index
            self.index += 1
            self.ws()
            if self.peek() == "}":
                raise self.stop("trailing comma before '}'", comma, path)

    def array(self, path: tuple) -> list:
        self.index += 1
        self.ws()
        result: list[Any] = []
        if self.peek() == "]":
            self.index += 1
            return result
        while True:
            result.append(self.value((*path, len(result))))
            self.ws()
            char = self.peek()
            if char == "]":
                self.index += 1
                return result
            if char != ",":
                raise self.stop("expected ',' or ']' after an array element", path=path)
            comma = self.index
            self.index += 1
            self.ws()
            if self.peek() == "]":
                raise self.stop("trailing comma before ']'", comma, path)
