"""`toolkit schema [NAME]`: the JSON Schemas of toolkit.toml and of each pipeline kind, from the installed
package, for editors to validate files with. Their `$id`s are stable identifiers (not locations): a
schema changes its `$id` (v1 → v2) only when a file it accepted would be refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from toolkit.deploy.context import Context
from toolkit.errors import UsageError
from toolkit.pipelines.kinds import DESCRIPTIONS, KINDS
from toolkit.pipelines.schema import schema_text
from toolkit.project.schema import TOOLKIT_TOML, toolkit_toml_schema


@dataclass(frozen=True)
class SchemaEntry:
    name: str
    id: str
    describes: str


@dataclass(frozen=True)
class SchemaList:
    schemas: tuple[SchemaEntry, ...]


def _text(name: str) -> str:
    return toolkit_toml_schema() if name == TOOLKIT_TOML else schema_text(name)


def schema_names() -> tuple[str, ...]:
    return (TOOLKIT_TOML, *KINDS)


def schema_document(ctx: Context | None, name: str) -> dict[str, Any]:
    """The schema called `name` (toolkit.toml, or a pipeline kind such as asl), as a JSON document."""
    if name not in schema_names():
        raise UsageError(f"no schema {name!r}", hint=f"one of {', '.join(schema_names())}")
    return json.loads(_text(name))


def schema_list(ctx: Context | None) -> SchemaList:
    """Every schema toolkit ships, with its `$id` and what it describes."""
    entries = [SchemaEntry(TOOLKIT_TOML, json.loads(_text(TOOLKIT_TOML))["$id"], "the project's configuration")]
    entries += [SchemaEntry(kind, json.loads(_text(kind))["$id"], DESCRIPTIONS[kind]) for kind in KINDS]
    return SchemaList(tuple(entries))
