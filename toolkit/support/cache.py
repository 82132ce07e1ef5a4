"""A per-user cache of derived data (generated schemas, compiled validators, parsed HCL), so a cold run
skips work whose inputs did not change.

Entries are keyed by a hash of everything that shapes them (schema, library versions, generator source)
and written atomically; a missing or unwritable cache only costs time. Location: TOOLKIT_CACHE_DIR (`off`: no
cache), else $XDG_CACHE_HOME/toolkit, else ~/.cache/toolkit.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType
from typing import Any

from toolkit.support.log import get_logger

log = get_logger(__name__)


def folder() -> Path | None:
    chosen = os.environ.get("TOOLKIT_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "toolkit"


def installed(package: str) -> str:
    """What names the installed copy of a package for a cache key, without importing it or reading its
    metadata (importlib.metadata costs tens of milliseconds to import): its `__init__.py`'s path, inode,
    size, mtime and ctime, which every install, upgrade or downgrade writes anew. "missing" when it is not
    installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
        st = os.stat(spec.origin) if spec is not None and spec.origin else None
    except (ImportError, ValueError, OSError):
        st = None
    return "missing" if st is None else f"{spec.origin}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def key(*parts: str) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


def _path(name: str, suffix: str) -> Path | None:
    """`name` is "<namespace>/<key>"."""
    base = folder()
    return None if base is None else base / f"{name}{suffix}"


def _write(path: Path | None, data: bytes) -> None:
    if path is not None:
        write_atomically(path, data, "cache")


def write_atomically(path: Path, data: bytes, what: str) -> None:
    """Write `data` to `path` through a temporary file beside it, so a reader never sees half a file; a
    folder that cannot be written (read-only, full disk) only costs the cache (`what` names it in the log)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    except OSError as exc:
        log.debug("%s not written (%s): %s", what, path, exc)


def load_code(name: str) -> CodeType | None:
    path = _path(name, ".code")
    try:
        return None if path is None else marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None


def store_code(name: str, code: CodeType) -> None:
    _write(_path(name, ".code"), marshal.dumps(code))


def store_bytes(name: str, data: bytes) -> None:
    """`name` is the whole file name below the folder ("<namespace>/<key><suffix>")."""
    _write(_path(name, ""), data)


def load_json(name: str) -> Any | None:
    path = _path(name, ".json")
    try:
        return None if path is None else json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_json(name: str, value: Any) -> None:
    _write(_path(name, ".json"), json.dumps(value).encode("utf-8"))
