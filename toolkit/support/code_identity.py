"""What names toolkit's own code in a cache key (docs/caching.md): a verdict toolkit's code shapes (the
validate step, rendering) is reused only while that code is exactly the code that reached it.

An installed toolkit (a wheel, by pip or uv) is named by its version and its distribution's RECORD: every
install, upgrade, downgrade or reinstall writes that file anew (new inode, ctime), and nothing else
changes the installed files. One stat instead of one per module. A checkout (an editable install,
PYTHONPATH) changes in place without any install, so there every file of the package is named by its
identity (inode, size, mtime, ctime), schemas shipped beside the modules included.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import toolkit

DISTRIBUTION = "dataenv_toolkit"


def _identity(path: str | os.PathLike) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def installed_record(package: Path, version: str) -> Path | None:
    """The RECORD of the wheel install `package` came from (its dist-info beside it), or None when the
    package is not an installed copy: an editable install's dist-info says so, and sits elsewhere."""
    info = package.parent / f"{DISTRIBUTION}-{version}.dist-info"
    try:
        direct = json.loads((info / "direct_url.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        direct = {}
    except (OSError, ValueError):
        return None
    if isinstance(direct, dict) and (direct.get("dir_info") or {}).get("editable"):
        return None
    record = info / "RECORD"
    return record if record.is_file() else None


def _every_file(package: Path) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = os.path.join(folder, name)
            found.append(f"{os.path.relpath(path, package)}:{_identity(path)}")
    return found


def identity_of(package: Path, version: str) -> str:
    """The identity of the package folder `package` of distribution version `version`."""
    record = installed_record(package, version)
    if record is not None:
        return f"installed {version} {package} {_identity(record)}"
    return "\n".join([f"checkout {version} {package}", *_every_file(package)])


@functools.cache
def toolkit_identity() -> str:
    """One string that changes whenever toolkit's code may have (computed once per process)."""
    return identity_of(Path(toolkit.__file__).resolve().parent, toolkit.__version__)
