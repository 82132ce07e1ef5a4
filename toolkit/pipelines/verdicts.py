"""What the checks found in each pipeline file, kept for the next run (`cache/pipeline-verdicts.json` under
the state folder), so an unchanged file is parsed but not checked again.

A verdict is keyed by the SHA-256 of the file's bytes, its kind and the name it is shown by (problems
carry it); the whole cache by its format, toolkit's version and the bytes of every module and schema
of `toolkit/pipelines/`. Only files that parsed are kept, and only kinds whose checks read nothing but the
file and toolkit's own schemas: Glue and Firehose schemas come from botocore's models, and a Glue
workflow's checks read the project's Glue jobs, so those kinds are checked every run.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from toolkit.pipelines.placeholders import Placeholder
from toolkit.pipelines.problems import Problem
from toolkit.support.log import get_logger

log = get_logger(__name__)

FORMAT = 1
CACHED_KINDS = frozenset({"asl", "datapipeline"})
_HERE = Path(__file__).parent


@functools.cache
def code_key() -> str:
    from toolkit import __version__

    digest = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    for path in sorted([*_HERE.glob("*.py"), *(_HERE / "schemas").glob("*")]):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def file_key(text: str, kind: str, shown: str) -> str:
    return f"{kind}:{shown}:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}"


class Verdicts:
    """The verdicts of one run: those read at the start (`path` None: caching off) and those it made."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list] = {}
        self.used: set[str] = set()
        self.changed = False
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("key") == code_key() and isinstance(data.get("files"), dict):
                    self.entries = data["files"]
            except (OSError, ValueError):
                pass

    def lookup(self, key: str) -> tuple[list[Problem], list[Placeholder]] | None:
        entry = self.entries.get(key) if self.path is not None else None
        if entry is None:
            return None
        try:
            problems = [Problem(*fields) for fields in entry[0]]
            marks = [Placeholder(*fields) for fields in entry[1]]
        except (TypeError, IndexError, KeyError, ValueError):  # damaged by hand or by another version
            return None
        self.used.add(key)
        return problems, marks

    def remember(self, key: str, problems: list[Problem], marks: list[Placeholder]) -> None:
        if self.path is None:
            return
        self.entries[key] = [
            [[p.file, p.line, p.column, p.pointer, p.keyword, p.message, p.environment, p.severity] for p in problems],
            [[m.pointer, m.name, m.type, m.whole] for m in marks],
        ]
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the verdicts of this run's files (others dropped), if anything changed."""
        if self.path is None or (not self.changed and self.used == set(self.entries)):
            return
        from toolkit.support.cache import write_atomically

        data = {"key": code_key(), "files": {k: v for k, v in self.entries.items() if k in self.used}}
        write_atomically(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"), "pipeline verdicts")
