"""Code fingerprints: a hash of a pipeline as written, placeholders unresolved, so values do not count.

Two environments run the same pipeline code exactly when their fingerprints match (the promotion check
compares them). Key order, whitespace and the editor-only `$schema` key do not change a fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

EDITOR_KEYS = ("$schema",)


def canonical(definition: Any) -> str:
    if isinstance(definition, dict):
        definition = {k: v for k, v in definition.items() if k not in EDITOR_KEYS}
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(definition: Any, kind: str = "") -> str:
    """`sha256:<hex>` of the canonical JSON of the definition (with its kind, when given)."""
    digest = hashlib.sha256()
    digest.update(kind.encode("utf-8") + b"\n")
    digest.update(canonical(definition).encode("utf-8"))
    return f"sha256:{digest.hexdigest()}"
