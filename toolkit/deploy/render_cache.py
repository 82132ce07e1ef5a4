"""The last render of an environment's pipelines, kept while nothing it depends on has changed
(docs/caching.md): a no-op `env up` then neither loads, checks nor renders a pipeline again.

Keyed by everything `pipelines/rendering.py:render` reads: every file below the pipelines folder by
content, values(ENV) as resolved now (tfvars and outputs; a digest only, never the values), the project's
settings, the output folder, toolkit's own code and the libraries the checks run on (botocore's models,
the JSON Schema validators, JSONata). Used only while the output folder still holds exactly what that
render wrote: its manifest lists those files and no other, each with the SHA-256 it had. Anything else
renders again, as without the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from toolkit.pipelines import outfolder
from toolkit.pipelines.rendering import RenderedFile, RenderResult
from toolkit.project.model import Project
from toolkit.project.values import Values
from toolkit.support import cache as user_cache
from toolkit.support.code_identity import toolkit_identity
from toolkit.support.hashing import file_sha256, tree_sha256

FORMAT = 1
LIBRARIES = ("botocore", "jsonschema", "fastjsonschema", "jsonata")


def render_key(project: Project, values: Values, out_dir: Path) -> str:
    digest = hashlib.sha256(f"{FORMAT}\0{project!r}\0{out_dir.resolve()}\0{values.environment}\0".encode())
    items = [[name, v.value, v.source, v.sensitive] for name, v in sorted(values.items.items())]
    digest.update(hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).digest())
    folder = project.pipelines_dir
    digest.update((tree_sha256(folder) if folder.is_dir() else "none").encode())
    digest.update(toolkit_identity().encode())
    for library in LIBRARIES:
        digest.update(f"\0{library}:{user_cache.installed(library)}".encode())
    return digest.hexdigest()


def _as_json(result: RenderResult) -> list[dict]:
    return [
        {"name": f.name, "kind": f.kind, "file": f.file, "fingerprint": f.fingerprint, "sha256": f.sha256}
        for f in result.files
    ]


def load(path: Path | None, key: str, environment: str, out_dir: Path) -> RenderResult | None:
    """The kept render, every file unchanged, if `key` is the one it was made with and the folder still
    holds exactly what it wrote; None otherwise."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        files = tuple(
            RenderedFile(f["name"], f["kind"], f["file"], f["fingerprint"], f["sha256"], False) for f in data["files"]
        )
        listed = json.loads((out_dir / outfolder.MANIFEST).read_text(encoding="utf-8")).get("files")
        if listed != sorted(f.file for f in files):
            return None
        if any(file_sha256(out_dir / f.file) != f.sha256 for f in files):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return RenderResult(environment, out_dir, files)


def store(path: Path | None, key: str, result: RenderResult) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "files": _as_json(result)}), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:  # a read-only state folder: render every time
        pass
