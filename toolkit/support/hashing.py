"""SHA-256 of exact bytes: the one identity toolkit uses to decide "same or changed"."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_sha256(text: str) -> str:
    return bytes_sha256(text.encode("utf-8"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(directory: Path, keep: Callable[[Path], bool] = lambda _relative: True) -> str:
    """One hash over a folder's files (relative names and contents) in a stable order; `keep` sees each
    file's path relative to the folder and says whether it counts. A symbolic link that leads outside the
    folder is hashed as the link (its target's name), never read: nothing outside is opened, and
    repointing the link still changes the hash. Links to folders are not walked (rglob)."""
    digest = hashlib.sha256()
    home = os.path.realpath(directory)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if not keep(relative):
            continue
        real = os.path.realpath(path)
        if real == home or real.startswith(home.rstrip(os.sep) + os.sep):
            content = file_sha256(path)
        else:
            content = "link:" + bytes_sha256(os.readlink(path).encode()) if path.is_symlink() else "outside"
        digest.update(relative.as_posix().encode() + b"\0" + content.encode() + b"\n")
    return digest.hexdigest()


def ordered_sha256(items: Iterable[tuple[str, str]]) -> str:
    """One hash over an ordered set of (name, digest) pairs, e.g. the migrations in the order they run: a
    file added, removed, renamed, reordered or changed changes it."""
    digest = hashlib.sha256()
    for name, sha256 in items:
        digest.update(name.encode("utf-8") + b"\0" + sha256.encode() + b"\n")
    return digest.hexdigest()
