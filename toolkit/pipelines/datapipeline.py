"""AWS Data Pipeline definitions (legacy: closed to new customers since July 2024): references, parents,
ids and `#{my…}` parameters, checks the schema cannot express."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from toolkit.pipelines.problems import Problem, pointer_of

_EXPRESSION = re.compile(r"#\{([^{}]*)\}")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_PARAMETER = re.compile(r"(?<![\w.@*])\*?my[A-Za-z0-9_]*")


def is_wire_format(data: Any) -> bool:
    """The API's shape (`pipelineObjects` with key/stringValue fields), not the CLI definition file."""
    if not isinstance(data, dict):
        return False
    objects = data.get("pipelineObjects", data.get("objects"))
    return "pipelineObjects" in data or (
        isinstance(objects, list) and any(isinstance(o, dict) and isinstance(o.get("fields"), list) for o in objects)
    )


def check(data: Any, file: str, extra_parameters: Iterable[str] = ()) -> list[Problem]:
    """`extra_parameters`: ids declared in a separate parameter file (`--parameter-objects`)."""
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        return []
    if is_wire_format(data):
        message = "API wire format (objects with key/stringValue fields); write the CLI definition format"
        return [Problem(file, 0, 0, "", "datapipeline:format", message)]
    found: list[Problem] = []

    def add(path: tuple, keyword: str, message: str) -> None:
        found.append(Problem(file, 0, 0, pointer_of(path), keyword, message))

    objects = [(i, o) for i, o in enumerate(data["objects"]) if isinstance(o, dict)]
    ids = Counter(o.get("id") for _, o in objects if isinstance(o.get("id"), str))
    for index, obj in objects:
        if ids[obj.get("id")] > 1:
            add(
                ("objects", index, "id"),
                "datapipeline:unique-id",
                f"object id {obj['id']!r} is used {ids[obj['id']]} times",
            )
    declared = _declared(data, add) | set(extra_parameters)
    parents: dict[str, str] = {}
    for index, obj in objects:
        for key, value in obj.items():
            for path, ref in _refs(value, ("objects", index, key)):
                if ref not in ids:
                    add(path, "datapipeline:ref", f"ref {ref!r} names no object in this definition")
                elif key == "parent" and isinstance(obj.get("id"), str):
                    parents[obj["id"]] = ref
            for path, text in _strings(value, ("objects", index, key)):
                _parameters_used(text, path, declared, add)
    _parent_cycles(parents, objects, add)
    return found


def _declared(data: dict, add) -> set[str]:
    declared: set[str] = set()
    for index, param in enumerate(data.get("parameters") or []):
        if isinstance(param, dict) and isinstance(param.get("id"), str):
            if param["id"] in declared:
                add(
                    ("parameters", index, "id"),
                    "datapipeline:unique-id",
                    f"parameter {param['id']!r} is declared twice",
                )
            declared.add(param["id"])
    for name in data.get("values") or {}:
        if name not in declared:
            add(("values", name), "datapipeline:parameter", f"value for {name!r}, which no parameter declares")
    return declared


def _parameters_used(text: str, path: tuple, declared: set[str], add) -> None:
    for expression in _EXPRESSION.findall(text):
        for name in _PARAMETER.findall(_QUOTED.sub("", expression)):
            if name not in declared:
                other = name[1:] if name.startswith("*") else f"*{name}"
                hint = f"; it is declared as {other!r}" if other in declared else ""
                add(path, "datapipeline:parameter", f"#{{{name}}} uses a parameter that is not declared{hint}")


def _parent_cycles(parents: dict[str, str], objects, add) -> None:
    where = {o.get("id"): i for i, o in objects}
    reported: set[str] = set()
    for start in sorted(parents):
        seen, node = [], start
        while node in parents and node not in seen:
            seen.append(node)
            node = parents[node]
        if node in seen and node not in reported:
            cycle = seen[seen.index(node) :]
            reported.update(cycle)
            add(("objects", where[node], "parent"), "datapipeline:parent-cycle",
                "parent cycle: " + " -> ".join([*cycle, node]))  # fmt: skip


def _refs(value: Any, path: tuple):
    if isinstance(value, dict) and isinstance(value.get("ref"), str):
        yield (*path, "ref"), value["ref"]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _refs(item, (*path, index))


def _strings(value: Any, path: tuple):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
