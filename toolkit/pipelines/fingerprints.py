"""Code fingerprints: a hash of a pipeline as written, placeholders unresolved, so values do not count.

Two environments run the same pipeline code exactly when their fingerprints match (the promotion check
compares them). A definition is hashed as the JSON value it parses to (canonical: key order, whitespace
and the editor-only `$schema` key do not count), since what deploys is the file rendered from that value,
keys sorted (and a plan bundle compares each rendered file byte for byte). A Glue job's code is also its
script: the exact bytes of the file in `pipelines/glue/scripts/` it runs are hashed in (SHA-256).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toolkit.support.hashing import file_sha256
from toolkit.support.paths import outside

EDITOR_KEYS = ("$schema",)


def canonical(definition: Any) -> str:
    if isinstance(definition, dict):
        definition = {k: v for k, v in definition.items() if k not in EDITOR_KEYS}
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(definition: Any, kind: str = "", scripts: Mapping[str, str] | None = None) -> str:
    """`sha256:<hex>` of the canonical JSON of the definition (with its kind, when given), and of the
    scripts it runs (file name -> SHA-256 of its bytes, or "missing")."""
    digest = hashlib.sha256()
    digest.update(kind.encode("utf-8") + b"\n")
    digest.update(canonical(definition).encode("utf-8"))
    for name, sha256 in sorted((scripts or {}).items()):
        digest.update(f"\nscript {name} {sha256}".encode())
    return f"sha256:{digest.hexdigest()}"


def glue_script(definition: Any, name: str) -> str:
    """The script a Glue job runs, found as the pipelines stacks find it: the last part of its
    `Command.ScriptLocation`, else `<pipeline name>.py`; it lives in `pipelines/glue/scripts/`."""
    command = definition.get("Command") if isinstance(definition, dict) else None
    location = command.get("ScriptLocation") if isinstance(command, dict) else None
    if isinstance(location, str) and location.strip("/"):
        return location.rstrip("/").rpartition("/")[2]
    return f"{name}.py"


def scripts_dir(pipelines_dir: Path) -> Path:
    return pipelines_dir / "glue" / "scripts"  # as commands/stack_inputs.py gives the stacks


def code_fingerprint(name: str, kind: str, definition: Any, pipelines_dir: Path) -> str:
    """The fingerprint of a pipeline's code: its definition, and for a Glue job the script it runs."""
    scripts = {}
    if kind == "glue-job":
        script = glue_script(definition, name)
        path = scripts_dir(pipelines_dir) / script
        if outside(path, scripts_dir(pipelines_dir)):  # a link out of the folder is never read
            scripts[script] = "outside the scripts folder"
        else:
            scripts[script] = file_sha256(path) if path.is_file() else "missing"  # the exact bytes
    return fingerprint(definition, kind, scripts)
