"""Glue and Firehose checks across fields and files that request shapes cannot express."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolkit.pipelines.problems import Problem, pointer_of

FIREHOSE_DESTINATIONS = (
    "S3DestinationConfiguration", "ExtendedS3DestinationConfiguration", "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration", "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration", "HttpEndpointDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration", "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
)  # fmt: skip
FIREHOSE_SOURCES = {
    "KinesisStreamAsSource": "KinesisStreamSourceConfiguration",
    "MSKAsSource": "MSKSourceConfiguration",
    "DatabaseAsSource": "DatabaseSourceConfiguration",
}


def firehose(data: Any, file: str) -> list[Problem]:
    if not isinstance(data, dict):
        return []
    found = []
    destinations = [key for key in FIREHOSE_DESTINATIONS if key in data]
    if len(destinations) != 1:
        message = f"exactly one destination configuration is needed, found {len(destinations)}"
        found.append(Problem(file, 0, 0, "", "firehose:destination", message))
    stream_type = data.get("DeliveryStreamType", "DirectPut")
    for source_type, key in FIREHOSE_SOURCES.items():
        # a Kinesis source may be left to the stack, which wires the environment's event stream
        if stream_type == source_type and key not in data and source_type != "KinesisStreamAsSource":
            message = f"DeliveryStreamType {source_type} needs {key}"
            found.append(Problem(file, 0, 0, "/DeliveryStreamType", "firehose:source", message))
        elif stream_type != source_type and key in data:
            message = f"{key} is only used with DeliveryStreamType {source_type}"
            found.append(Problem(file, 0, 0, pointer_of((key,)), "firehose:source", message))
    return found


NAMED_KINDS = frozenset({"glue-job", "firehose", "glue-workflow"})  # the kinds `_named` finds names in


def unique_names(documents: Iterable[tuple[str, str, Any]]) -> list[Problem]:
    """AWS names one account holds once, across files: (file, kind, data) in, a problem at every use."""
    uses: dict[tuple[str, str], list[tuple[str, tuple]]] = {}
    for file, kind, data in documents:
        for what, path, name in _named(kind, data):
            uses.setdefault((what, name), []).append((file, path))
    found = []
    for (what, name), places in uses.items():
        for file, path in places if len(places) > 1 else ():
            others = [
                f"{f}:{pointer_of(p)}" if f != file else pointer_of(p) for f, p in places if (f, p) != (file, path)
            ]
            message = f"{what} name {name!r} is also used by {', '.join(others)}; AWS names are unique per account"
            found.append(Problem(file, 0, 0, pointer_of(path), "aws:unique-name", message))
    return found


def _named(kind: str, data: Any):
    if kind not in NAMED_KINDS or not isinstance(data, dict):
        return
    if kind in ("glue-job", "firehose"):
        key, what = ("Name", "Glue job") if kind == "glue-job" else ("DeliveryStreamName", "Firehose stream")
        if isinstance(data.get(key), str):
            yield what, (key,), data[key]
    elif kind == "glue-workflow":
        workflow = data.get("Workflow")
        if isinstance(workflow, dict) and isinstance(workflow.get("Name"), str):
            yield "Glue workflow", ("Workflow", "Name"), workflow["Name"]
        for key, what in (("Triggers", "Glue trigger"), ("Crawlers", "Glue crawler")):
            items = data.get(key) if isinstance(data.get(key), list) else []
            for index, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get("Name"), str):
                    yield what, (key, index, "Name"), item["Name"]


def glue_workflow(data: Any, file: str, jobs: Iterable[str] | None) -> list[Problem]:
    """Triggers name the workflow, jobs defined in the project (`jobs`; None: not known) and its crawlers."""
    if not isinstance(data, dict):
        return []
    found = []
    workflow = (data.get("Workflow") or {}).get("Name") if isinstance(data.get("Workflow"), dict) else None
    crawlers = {c.get("Name") for c in data.get("Crawlers") or [] if isinstance(c, dict)}
    known_jobs = set(jobs) if jobs is not None else None
    for t, trigger in enumerate(data.get("Triggers") or []):
        if not isinstance(trigger, dict):
            continue
        needs = {
            "CONDITIONAL": ("Predicate", "conditions on other jobs or crawlers"),
            "SCHEDULED": ("Schedule", "a cron expression"),
        }
        kind = trigger.get("Type")
        if isinstance(kind, str) and kind in needs and not trigger.get(needs[kind][0]):
            field, what = needs[trigger["Type"]]
            message = f"a {trigger['Type']} trigger needs {field} ({what})"
            found.append(Problem(file, 0, 0, pointer_of(("Triggers", t)), "glue:trigger", message))
        named = trigger.get("WorkflowName")
        if named is not None and named != workflow:
            message = f"WorkflowName {named!r} is not this file's workflow {workflow!r}"
            found.append(Problem(file, 0, 0, pointer_of(("Triggers", t, "WorkflowName")), "glue:workflow", message))
        places = [(("Triggers", t, "Actions", a), x) for a, x in enumerate(trigger.get("Actions") or [])]
        conditions = (trigger.get("Predicate") or {}).get("Conditions") or []
        places += [(("Triggers", t, "Predicate", "Conditions", c), x) for c, x in enumerate(conditions)]
        for path, item in places:
            if not isinstance(item, dict):
                continue
            job = item.get("JobName")
            if job is not None and known_jobs is not None and job not in known_jobs:
                message = f"JobName {job!r} is not a Glue job defined in the project (*.glue-job.json Name)"
                found.append(Problem(file, 0, 0, pointer_of((*path, "JobName")), "glue:job", message))
            crawler = item.get("CrawlerName")
            if crawler is not None and crawler not in crawlers:
                message = f"CrawlerName {crawler!r} is not a crawler defined in this workflow's Crawlers"
                found.append(Problem(file, 0, 0, pointer_of((*path, "CrawlerName")), "glue:crawler", message))
    return found
