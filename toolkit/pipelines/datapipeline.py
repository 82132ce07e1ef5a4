"""AWS Data Pipeline definitions (legacy: closed to new customers since July 2024): references, parents,
ids and `#{my…}` parameters, checks the schema cannot express."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from toolkit.pipelines import datapipeline_objects as reference
from toolkit.pipelines.problems import ERROR, WARNING, Problem, pointer_of

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

    def add(path: tuple, keyword: str, message: str, severity: str = ERROR) -> None:
        found.append(Problem(file, 0, 0, pointer_of(path), keyword, message, severity=severity))

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
    _against_the_reference(objects, parents, add)
    return found


def _against_the_reference(objects, parents: dict[str, str], add) -> None:
    """Each object against the object reference: its type, its fields (required ones looked for along
    `parent` and in `Default`), scheduleType values and period syntax."""
    by_id = {o["id"]: o for _, o in objects if isinstance(o.get("id"), str)}
    for index, obj in objects:
        kind = obj.get("type")
        if kind is not None and not isinstance(kind, str):
            continue  # the schema says what is wrong with it
        if kind is not None and kind not in reference.OBJECTS:
            add(("objects", index, "type"), "datapipeline:type",
                f"unknown object type {kind!r}{reference.did_you_mean(kind, reference.OBJECTS)}")  # fmt: skip
            continue
        fields = reference.OBJECTS[kind][0] if kind else reference.ALL_FIELDS
        for key, value in obj.items():
            _field(kind, key, value, fields, ("objects", index, key), add)
        if kind:
            _required(kind, obj, _inherited(obj, by_id, parents), ("objects", index), add)


def _field(kind: str | None, key: str, value: Any, fields, path: tuple, add) -> None:
    name = reference.field_name(key)
    if name is None or name in fields:
        pass
    elif name in reference.ALL_FIELDS:
        add(path, "datapipeline:field",
            f"{key!r} is not a field of {kind}{reference.did_you_mean(name, fields)}", WARNING)  # fmt: skip
        return
    else:
        # Close to a known field: a typo the service would refuse. Far from all: perhaps a field of an
        # older release of the guide (AWS's own samples carry some), so a warning.
        where = f"a field of {kind}" if kind else "a field of any object type"
        close = reference.nearest(name, fields)
        hint = f"; did you mean {close!r}?" if close else " in the object reference (AWS may refuse it)"
        add(path, "datapipeline:field", f"{key!r} is not {where}{hint}", ERROR if close else WARNING)
        return
    if not isinstance(value, str) or reference.is_expression(value):
        return
    if name == "scheduleType" and value.lower() not in reference.SCHEDULE_TYPES:
        allowed = ", ".join(reference.SCHEDULE_TYPES)
        add(path, "datapipeline:scheduleType", f"scheduleType {value!r} is not one of {allowed}")
    elif name in reference.PERIOD_FIELDS and not reference.is_period(value):
        add(path, "datapipeline:period",
            f"{key} {value!r} is not a period: write N minutes|hours|days|weeks|months, e.g. 1 day")  # fmt: skip


def _inherited(obj: dict, by_id: dict, parents: dict[str, str]) -> set[str]:
    """The fields an object has with what it inherits from its parents and from Default."""
    names = {reference.field_name(k) for k in obj}
    seen, node = set(), obj.get("id")
    while node in parents and node not in seen:
        seen.add(node)
        node = parents[node]
        names |= {reference.field_name(k) for k in by_id.get(node, {})}
    names |= {reference.field_name(k) for k in by_id.get("Default", {})}
    return names - {None}


def _required(kind: str, obj: dict, present: set[str], path: tuple, add) -> None:
    _, required, groups = reference.OBJECTS[kind]
    for name in required:
        if name not in present:
            add(path, "datapipeline:required",
                f"{kind} {obj.get('id')!r} has no {name!r} (required; its parent or Default may give it)")  # fmt: skip
    for group in groups:
        if not present & set(group):
            add(path, "datapipeline:required",
                f"{kind} {obj.get('id')!r} needs one of {', '.join(repr(g) for g in group)}")  # fmt: skip


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
