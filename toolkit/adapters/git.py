"""The commit a plan was made from (and whether the tree had uncommitted changes)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from toolkit.adapters import process


def current_commit(root: Path) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    env = dict(os.environ)
    head = process.run([git, "-C", str(root), "rev-parse", "HEAD"], env=env)
    if head.returncode != 0:
        return None
    dirty = process.run([git, "-C", str(root), "status", "--porcelain", "--untracked-files=no"], env=env)
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
