"""The pipeline kinds: how a file's name says its kind, and which checks each kind runs."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the checks are imported when a file is checked: a warm `validate` checks none
    from toolkit.pipelines import schema
    from toolkit.pipelines.problems import Problem

# file name suffix -> kind; the schema of a kind is schemas/<kind>.schema.json
SUFFIXES = {
    ".asl.json": "asl",
    ".glue-job.json": "glue-job",
    ".glue-workflow.json": "glue-workflow",
    ".firehose.json": "firehose",
    ".datapipeline.json": "datapipeline",
}
KINDS = tuple(SUFFIXES.values())
DESCRIPTIONS = {
    "asl": "AWS Step Functions state machine (Amazon States Language)",
    "glue-job": "AWS Glue job (CreateJob request)",
    "glue-workflow": "AWS Glue workflow with its crawlers and triggers",
    "firehose": "Amazon Data Firehose delivery stream (CreateDeliveryStream request)",
    "datapipeline": "AWS Data Pipeline definition (legacy service)",
}
# kind -> folder of the rendered files (<folder>/<name>.json), the layout the Terraform stacks read
RENDER_FOLDERS = {
    "asl": "stepfunctions",
    "glue-job": "glue",
    "glue-workflow": "glue-workflows",
    "firehose": "firehose",
    "datapipeline": "datapipeline",
}
_BOTOCORE = {"glue-job", "glue-workflow", "firehose"}


def kind_of(file_name: str) -> tuple[str, str] | None:
    """(pipeline name, kind) from a file name such as `orders-etl.asl.json`; None for other files."""
    for suffix, kind in SUFFIXES.items():
        if file_name.endswith(suffix) and len(file_name) > len(suffix):
            return file_name[: -len(suffix)], kind
    return None


# Glue's visual-editor graph is most of CreateJob's schema: checked by the full validator, when present.
_SLOW_KEYS = {"glue-job": ("CodeGenConfigurationNodes",)}


@cache
def checker(kind: str) -> schema.Checker:
    from toolkit.pipelines import schema, shapes

    if kind not in _BOTOCORE:
        return schema.shipped(kind)
    request = shapes.request_schema(kind)
    root = request.get("$ref", "").rpartition("/")[2] or None
    return schema.compile_schema(request, _SLOW_KEYS.get(kind, ()), root)


def check(data: Any, file: str, kind: str, *, glue_jobs: Iterable[str] | None = None) -> list[Problem]:
    """Schema and semantic problems of one parsed document (positions are filled in later)."""
    from toolkit.pipelines import asl, aws_checks, datapipeline, schema

    if kind == "datapipeline" and datapipeline.is_wire_format(data):
        return datapipeline.check(data, file)
    found = schema.problems(data, file, checker(kind))
    try:
        if kind == "asl":
            found += asl.check(data, file)
        elif kind == "datapipeline":
            found += datapipeline.check(data, file)
        elif kind == "firehose":
            found += aws_checks.firehose(data, file)
        elif kind == "glue-workflow":
            found += aws_checks.glue_workflow(data, file, glue_jobs)
    except (TypeError, AttributeError, KeyError, ValueError):
        # The semantic checks rely on the shapes the schema guarantees (StartAt a string, Choices a
        # list, ...). On a document the schema rejected they may meet anything; its problems say what
        # is wrong. On a document the schema accepted, a failure here is a bug: let it show.
        if not found:
            raise
    return found
