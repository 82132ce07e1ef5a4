"""JSONPath, reference paths, intrinsic functions and JSONata expressions as Step Functions reads them."""

from __future__ import annotations

import re
from functools import lru_cache

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# .name  ..name  .*  [ ... ] (one level of nested brackets, e.g. filters with indexes)
_SEGMENT = re.compile(r"""\.\.?(?:[^.\[\]\s'"()]+|\*)|\[(?:[^\[\]]|\[[^\]]*\])*\]""")
_INTRINSIC = re.compile(r"States\.([A-Za-z0-9]+)\(")
INTRINSICS = {
    "Format": None, "StringToJson": 1, "JsonToString": 1, "Array": None, "ArrayPartition": 2,
    "ArrayContains": 2, "ArrayRange": 3, "ArrayGetItem": 2, "ArrayLength": 1, "ArrayUnique": 1,
    "Base64Encode": 1, "Base64Decode": 1, "Hash": 2, "JsonMerge": 3, "MathRandom": None, "MathAdd": 2,
    "StringSplit": 2, "UUID": 0,
}  # fmt: skip
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# `{%` and `%}` open and close the string, as Step Functions reads it (AWS's own samples write
# `{%$lowercase(…) %}`): spaces inside the delimiters are optional, a line break next to one is refused
# (docs/pipelines.md, "Choices").
_SURROUND = re.compile(r"\A\{% *(?=\S)(?P<expr>[\s\S]*?)(?<=\S) *%\}\Z")


def is_path(text: str, *, reference: bool = False, variables: bool = True, context: bool = True) -> bool:
    """A JSONPath (`reference`: a Reference Path, which names one node: no `..`, `*`, filters, slices)."""
    if not text.startswith("$"):
        return False
    index = 1
    if text.startswith("$$"):
        if not context:
            return False
        index = 2
    elif variables:
        ident = _IDENT.match(text, 1)
        if ident:
            index = ident.end()
    while index < len(text):
        segment = _SEGMENT.match(text, index)
        if not segment:
            return False
        part = segment.group()
        if reference and (part.startswith("..") or "*" in part or part[:2] in ("[?", "[(") or ":" in part):
            return False
        index = segment.end()
    return True


def intrinsic_error(text: str) -> str | None:
    """Why `text` is not a well-formed intrinsic function call, or None when it is."""
    try:
        end = _call(text, 0)
    except ValueError as exc:
        return str(exc)
    return None if end == len(text.rstrip()) else "unexpected text after the intrinsic function call"


def _call(text: str, index: int) -> int:
    match = _INTRINSIC.match(text, index)
    if not match:
        raise ValueError("expected an intrinsic function such as States.Format(...)")
    name = match.group(1)
    if name not in INTRINSICS:
        raise ValueError(f"unknown intrinsic function States.{name}")
    index, kinds = match.end(), []
    while True:
        while text[index : index + 1] == " ":
            index += 1
        if text[index : index + 1] == ")" and not kinds:
            index += 1
            break
        kind, index = _argument(text, index)
        kinds.append(kind)
        while text[index : index + 1] == " ":
            index += 1
        char = text[index : index + 1]
        index += 1
        if char == ")":
            break
        if char != ",":
            raise ValueError(f"expected ',' or ')' in the arguments of States.{name}")
    arity = INTRINSICS[name]
    if arity is not None and len(kinds) != arity:
        raise ValueError(f"States.{name} takes {arity} argument(s), not {len(kinds)}")
    if name in ("MathAdd", "MathRandom", "ArrayRange") and any(k == "string" for k in kinds):
        raise ValueError(f"the arguments of States.{name} must be numbers or paths, not strings")
    return index


def _argument(text: str, index: int) -> tuple[str, int]:
    char = text[index : index + 1]
    if char == "'":
        index += 1
        while index < len(text):
            if text[index] == "\\":
                index += 2
                continue
            if text[index] == "'":
                return "string", index + 1
            index += 1
        raise ValueError("unterminated string argument")
    if char == "$":
        end = index
        depth = 0
        while end < len(text) and (depth or text[end] not in ",)"):
            depth += {"[": 1, "]": -1}.get(text[end], 0)
            end += 1
        path = text[index:end].strip()
        if not is_path(path):
            raise ValueError(f"{path!r} is not a valid path argument")
        return "path", end
    if text.startswith("States.", index):
        return "call", _call(text, index)
    number = _NUMBER.match(text, index)
    if number:
        return "number", number.end()
    for literal in ("null", "true", "false"):
        if text.startswith(literal, index):
            return literal, index + len(literal)
    raise ValueError("expected a string, number, path or intrinsic function as argument")


def jsonata_error(text: str) -> str | None:
    """Why `text` is not a JSONata template `{% expression %}`, or None when it is."""
    match = _SURROUND.match(text)
    if not match:
        return (
            "write JSONata as '{% expression %}': the string opens with {% and closes with %}, with no line break "
            "next to either (spaces there are optional)"
        )
    return _jsonata_syntax(match.group("expr"))


@lru_cache(maxsize=4096)
def _jsonata_syntax(expression: str) -> str | None:
    import jsonata

    try:
        jsonata.Jsonata(expression)
    except Exception as exc:  # jsonata raises its own JException for every syntax error
        return f"JSONata syntax error: {exc}"
    return None


def looks_like_jsonata(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("{%") or stripped.endswith("%}")
