"""Paths as people wrote them: relative to the project root when inside it."""

from __future__ import annotations

from pathlib import Path


def shown(path: Path, root: Path | None) -> str:
    """`path` relative to `root` when it is inside it (what people and editors expect), else as given."""
    if root is not None and path.is_relative_to(root):
        return str(path.relative_to(root))
    return str(path)
