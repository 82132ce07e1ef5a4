"""JSON Schema validation of a loaded file: schemas compiled once per process, errors kept as data.

A valid document costs one call of fastjsonschema's generated code; only a document it rejects is
walked by jsonschema, which reports every error with its pointer and keyword.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from toolkit.pipelines import placeholders
from toolkit.pipelines.problems import Problem, pointer_of

# Errors about a value that is a placeholder are about the placeholder, not the value it will take:
# the binding check types it per environment, and `render` validates the result again.
_VALUE_KEYWORDS = {
    "type",
    "pattern",
    "enum",
    "const",
    "maxLength",
    "minLength",
    "format",
    "minimum",
    "maximum",
}


def schema_text(kind: str) -> str:
    return resources.files("toolkit.pipelines").joinpath("schemas", f"{kind}.schema.json").read_text("utf-8")


@dataclass(frozen=True)
class Checker:
    """A schema compiled twice: fastjsonschema answers "valid?" quickly; jsonschema lists every error."""

    fast: Callable[[Any], Any]
    full: Any  # a jsonschema validator, used only for documents the fast check rejects
    slow_keys: tuple[str, ...] = ()  # top-level keys left out of the fast schema (huge subtrees)


def compile_schema(schema: dict[str, Any], slow_keys: tuple[str, ...] = (), shape: str | None = None) -> Checker:
    import fastjsonschema

    fast_schema = copy.deepcopy(schema)
    fast_schema["$schema"] = "http://json-schema.org/draft-07/schema#"  # what fastjsonschema reads
    fast_schema.pop("$id", None)  # every $ref is local: no base URI, nothing ever fetched
    target = fast_schema["$defs"][shape] if shape else fast_schema
    for key in slow_keys:
        target["properties"][key] = {}
    return Checker(_fast(fastjsonschema, fast_schema), _full_validator()(schema), slow_keys)


def python_pattern(pattern: str) -> str:
    """A JSON Schema (ECMA-262) pattern for Python's `re`: ECMA's `$` matches only at the very end, as
    Python's `\\Z` does (Python's `$` also matches before a final newline: "name\\n" would pass)."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append("\\Z" if char == "$" and not in_class else char)
        index += 1
    return "".join(out)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(python_pattern(pattern))


def _pattern_keyword(validator, pattern: str, instance: Any, schema: dict) -> Any:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _full_validator():
    """jsonschema's 2020-12 validator with ECMA-262 anchors (fastjsonschema already reads `$` as `\\Z`)."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"pattern": _pattern_keyword})


def _fast(fastjsonschema, schema: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema's generated validator, its compiled code cached across runs."""
    from toolkit.support import cache

    name = "pipelines/" + cache.key("fastjsonschema", fastjsonschema.VERSION, json.dumps(schema, sort_keys=True))
    code = cache.load_code(name)
    if code is None:
        refuse = {"http": _no_fetch, "https": _no_fetch, "file": _no_fetch}
        source = fastjsonschema.compile_to_code(schema, handlers=refuse)
        code = compile(source, f"<schema {name[:12]}>", "exec")
        cache.store_code(name, code)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # code we generated from our own schema, as fastjsonschema.compile does
    return namespace["validate"]


def _no_fetch(uri: str) -> Any:
    raise ValueError(f"remote $ref {uri} refused: pipeline schemas are self-contained")


@cache
def shipped(kind: str) -> Checker:
    return compile_schema(json.loads(schema_text(kind)))


def problems(data: Any, file: str, checker: Checker) -> list[Problem]:
    """Every schema error (not only the first), each with its pointer and failing keyword."""
    from fastjsonschema import JsonSchemaException

    slow = isinstance(data, dict) and any(key in data for key in checker.slow_keys)
    if not slow:
        try:
            checker.fast(data)
            return []
        except JsonSchemaException:
            pass
    if checker.full.is_valid(data):
        return []
    found: list[Problem] = []
    for error in checker.full.iter_errors(data):
        found.extend(_to_problems(error, file))
    return sorted(set(found), key=lambda p: (p.pointer, p.keyword, p.message))


def _to_problems(error, file: str) -> list[Problem]:
    path = tuple(error.absolute_path)
    instance = error.instance
    if error.validator in _VALUE_KEYWORDS and isinstance(instance, str) and placeholders.contains(instance):
        return []
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in allowed)
        return [
            Problem(file, 0, 0, pointer_of((*path, key)), "additionalProperties", f"unknown field {key!r}")
            for key in extra
        ]
    if error.validator == "required":
        message = error.message.replace(" is a required property", " is required")
        return [Problem(file, 0, 0, pointer_of(path), "required", message)]
    return [Problem(file, 0, 0, pointer_of(path), str(error.validator), _message(error))]


def _message(error) -> str:
    """Say what was expected, briefly: jsonschema's own messages repeat whole values."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {wanted}, found {placeholders.describe(instance)}"
    if keyword == "enum":
        return f"{_brief(instance)} is not one of: {', '.join(map(str, expected))}"
    if keyword == "const":
        return f"expected {expected!r}"
    if keyword in ("maxLength", "minLength") and isinstance(instance, str):
        bound = "at most" if keyword == "maxLength" else "at least"
        return f"is {len(instance)} characters long; {bound} {expected}"
    if keyword in ("maxItems", "minItems") and isinstance(instance, list):
        bound = "at most" if keyword == "maxItems" else "at least"
        return f"has {len(instance)} item(s); {bound} {expected}"
    if keyword == "pattern":
        return f"{_brief(instance)} does not match the pattern {expected}"
    if keyword in ("maxProperties", "minProperties") and isinstance(instance, dict):
        bound = "at most" if keyword == "maxProperties" else "at least"
        names = ", ".join(sorted(instance)) if 0 < len(instance) <= 8 else f"{len(instance)} of them"
        return (
            f"has {len(instance)} field(s) ({names}); {bound} {expected}"
            if instance
            else f"is empty; {bound} {expected}"
        )
    if keyword in ("anyOf", "oneOf") and isinstance(expected, list):
        return _alternatives(error)
    if keyword in ("minimum", "maximum"):
        return f"{instance} is {'less' if keyword == 'minimum' else 'greater'} than the {keyword} {expected}"
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


def _alternatives(error) -> str:
    """anyOf/oneOf: what each alternative wants, and why the one of the value's own type did not take it."""
    alternatives = error.validator_value
    shapes = [_shape(alternative) for alternative in alternatives]
    if error.validator == "oneOf" and not list(error.context):
        return f"matches more than one of: {'; '.join(shapes)}"
    message = f"expected {' or '.join(dict.fromkeys(shapes))}; found {placeholders.describe(error.instance)}"
    own = {
        i for i, alt in enumerate(alternatives) if isinstance(alt, dict) and _is_type(error.instance, alt.get("type"))
    }
    reasons = [
        sub for sub in error.context if sub.schema_path and sub.schema_path[0] in own and sub.validator != "type"
    ]
    if reasons:
        sub = reasons[0]
        where = "".join(f"/{part}" for part in sub.relative_path)
        why = _extra(sub) if sub.validator == "additionalProperties" else _message(sub)
        message += f" ({where + ': ' if where else ''}{why})"
    return message


def _is_type(value: Any, kind: Any) -> bool:
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    found = names.get(type(value), "null" if value is None else "number")
    kinds = kind if isinstance(kind, list) else [kind]
    return found in kinds or (found == "number" and isinstance(value, int) and "integer" in kinds)


def _shape(schema: Any) -> str:
    """An alternative of anyOf/oneOf in a few words."""
    if not isinstance(schema, dict):
        return "anything" if schema is True else "nothing"
    if "$ref" in schema:
        return f"a {schema['$ref'].rpartition('/')[2]}"
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(map(repr, schema["enum"]))
    kind = schema.get("type")
    if kind == "object":
        names = schema.get("required") or (schema.get("propertyNames") or {}).get("enum")
        joined = (" and " if schema.get("required") else " or ").join(names or ())
        return f"an object with {joined}" + ("" if "required" in schema else " (one field)") if names else "an object"
    if kind == "array":
        items = schema.get("items")
        return f"an array of {_shape(items)}" if isinstance(items, dict) and items else "an array"
    if isinstance(kind, list):
        return " or ".join(_shape({"type": k}) for k in kind)
    if "anyOf" in schema or "oneOf" in schema:
        return "(" + " or ".join(_shape(alt) for alt in schema.get("anyOf", schema.get("oneOf"))) + ")"
    return {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "a boolean",
        "null": "null",
    }.get(kind, "a value of another shape")


def _extra(error) -> str:
    allowed = set(error.schema.get("properties", {}))
    extra = sorted(k for k in error.instance if k not in allowed) if isinstance(error.instance, dict) else []
    return f"unknown field(s) {', '.join(map(repr, extra))}"


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
