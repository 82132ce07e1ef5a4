"""JSON Schemas generated from botocore's service models (Glue, Firehose request shapes).

botocore's own parameter validator skips `enum`, `max` length and `pattern`; these schemas keep them,
so a Glue job or Firehose stream is checked the way the service will check it, before Terraform runs.
Models are loaded once per process; `python -m toolkit.pipelines.shapes` rewrites the shipped copies.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.support.log import get_logger

log = get_logger(__name__)

# kind -> (service, operation): what the file holds is that operation's request
REQUESTS = {
    "glue-job": ("glue", "CreateJob"),
    "glue-crawler": ("glue", "CreateCrawler"),
    "glue-trigger": ("glue", "CreateTrigger"),
    "glue-workflow-request": ("glue", "CreateWorkflow"),
    "firehose": ("firehose", "CreateDeliveryStream"),
}
# Members the pipelines stack sets from the environment (its roles, its stream, its bucket): a
# definition may leave them out; when present they are still checked.
STACK_OWNED = {
    "glue-job": {"CreateJobRequest": {"Role"}},
    "firehose": {
        "KinesisStreamSourceConfiguration": {"KinesisStreamARN", "RoleARN"},
        "ExtendedS3DestinationConfiguration": {"RoleARN", "BucketARN"},
        "S3DestinationConfiguration": {"RoleARN", "BucketARN"},
    },
}
# Java writes astral characters as surrogate pairs in a class. Neither that nor Python's \U escape is
# valid in both Python and ECMA-262 with the `u` flag (what JSON Schema patterns are, and what editors
# compile them as); the characters themselves are: JSON carries them as "\ud800\udc00".
_SURROGATES = {r"\uD800\uDC00-\uDBFF\uDFFF": "\U00010000-\U0010ffff"}
# What ECMA-262 lets a backslash escape with the `u` flag (besides letters and digits); `-` only in a class
_SYNTAX = set("^$\\.*+?()[]{}|/")


@cache
def _session():
    import botocore.session

    return botocore.session.get_session()


@cache
def botocore_version() -> str:
    import botocore

    return botocore.__version__


WORKFLOW = "glue-workflow"


@cache
def request_schema(kind: str) -> dict[str, Any]:
    """The request schema of `kind`, from the installed botocore's model (cached across runs)."""
    from toolkit.support import cache

    generator = Path(__file__).read_text(encoding="utf-8")
    name = "pipelines/" + cache.key("request-schema", kind, botocore_version(), generator)
    found = cache.load_json(name)
    if found is None:
        found = _workflow_schema() if kind == WORKFLOW else _request_schema(kind)
        cache.store_json(name, found)
    return found


def _request_schema(kind: str) -> dict[str, Any]:
    service, operation = REQUESTS[kind]
    shape = _session().get_service_model(service).operation_model(operation).input_shape
    defs: dict[str, Any] = {}
    root = _convert(shape, defs)
    top = dict(defs[shape.name])
    top["properties"] = {"$schema": {"type": "string"}, **top["properties"]}
    defs[shape.name] = top
    for shape_name, members in STACK_OWNED.get(kind, {}).items():
        body = defs[shape_name]
        body["required"] = [m for m in body.get("required", []) if m not in members]
        if not body["required"]:
            del body["required"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://dataenv-toolkit.invalid/schemas/v1/{kind}.schema.json",
        "title": f"{service} {operation} request (generated from botocore {botocore_version()})",
        **root,
        "$defs": defs,
    }


def _workflow_schema() -> dict[str, Any]:
    """A Glue workflow file: the workflow, its crawlers and triggers (jobs live in their own files)."""
    members = (
        ("Workflow", "glue-workflow-request"),
        ("Crawler", "glue-crawler"),
        ("Trigger", "glue-trigger"),
    )
    parts = {name: request_schema(kind) for name, kind in members}
    defs: dict[str, Any] = {}
    roots: dict[str, Any] = {}
    for name, part in parts.items():
        defs.update(part["$defs"])
        roots[name] = {k: v for k, v in part.items() if k not in ("$defs", "$schema", "$id", "title")}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://dataenv-toolkit.invalid/schemas/v1/{WORKFLOW}.schema.json",
        "title": f"Glue workflow, its crawlers and triggers (generated from botocore {botocore_version()})",
        "type": "object",
        "required": ["Workflow", "Triggers"],
        "properties": {
            "$schema": {"type": "string"},
            "Workflow": roots["Workflow"],
            "Crawlers": {"type": "array", "items": roots["Crawler"]},
            "Triggers": {"type": "array", "minItems": 1, "items": roots["Trigger"]},
        },
        "additionalProperties": False,
        "$defs": defs,
    }


def _convert(shape, defs: dict[str, Any]) -> dict[str, Any]:
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return {}
        if shape.name not in defs:
            defs[shape.name] = {}  # placeholder first: shapes can be recursive
            properties = {name: _convert(member, defs) for name, member in shape.members.items()}
            if shape.metadata.get("exception"):
                properties = {}
            body: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
            if shape.required_members:
                body["required"] = list(shape.required_members)
            if shape.metadata.get("union"):
                body["maxProperties"] = 1
            defs[shape.name] = body
        return {"$ref": f"#/$defs/{shape.name}"}
    meta = shape.metadata
    if kind == "list":
        schema: dict[str, Any] = {"type": "array", "items": _convert(shape.member, defs)}
        _bounds(schema, meta, "minItems", "maxItems")
        return schema
    if kind == "map":
        schema = {"type": "object", "additionalProperties": _convert(shape.value, defs)}
        _bounds(schema, meta, "minProperties", "maxProperties")
        return schema
    if kind == "string":
        schema = {"type": "string"}
        if shape.enum:
            schema["enum"] = list(shape.enum)
        _bounds(schema, meta, "minLength", "maxLength")
        pattern = _pattern(meta.get("pattern"))
        if pattern:
            schema["pattern"] = pattern
        return schema
    if kind in ("integer", "long"):
        schema = {"type": "integer"}
        _bounds(schema, meta, "minimum", "maximum")
        return schema
    if kind in ("double", "float"):
        schema = {"type": "number"}
        _bounds(schema, meta, "minimum", "maximum")
        return schema
    if kind == "boolean":
        return {"type": "boolean"}
    return {"type": "string"}  # timestamp, blob: written as text in a JSON file


def _bounds(schema: dict[str, Any], meta: dict[str, Any], low: str, high: str) -> None:
    if "min" in meta:
        schema[low] = meta["min"]
    if "max" in meta:
        schema[high] = meta["max"]


def _pattern(pattern: str | None) -> str | None:
    """AWS patterns match the whole value (Java's `matches`); JSON Schema's `pattern` searches, in
    ECMA-262's dialect. So: anchored, and written in what both ECMA-262 (`u` flag) and Python read alike."""
    if not pattern:
        return None
    for java, portable in _SURROGATES.items():
        pattern = pattern.replace(java, portable)
    pattern = ecma_portable(pattern)
    anchored = pattern if pattern.startswith("^") and pattern.endswith("$") else f"^(?:{pattern})$"
    from toolkit.pipelines.schema import python_pattern

    try:
        re.compile(python_pattern(anchored))
    except re.error:
        log.debug("pattern not usable in Python, skipped: %s", pattern)
        return None
    return anchored


def ecma_portable(pattern: str) -> str:
    """Drop escapes ECMA-262 rejects with the `u` flag (`\\_`, `\\:`; `\\-` outside a class: Python reads the
    bare character the same), and escape `$` inside a class so no tool takes it for an anchor."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            keep = escaped.isalnum() or escaped in _SYNTAX or (escaped == "-" and in_class)
            out.append(char + escaped if keep else escaped)
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append("\\$" if char == "$" and in_class else char)
        index += 1
    return "".join(out)


def write_shipped(folder: Path) -> list[Path]:
    written = []
    for kind in (*REQUESTS, WORKFLOW):
        path = folder / f"{kind}.schema.json"
        path.write_text(json.dumps(request_schema(kind), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_shipped(Path(__file__).parent / "schemas"):
        print(path)
