"""What a run learnt about each migration file (Flyway checksum, SHA-256, directives), kept for the next
run, so an unchanged file is not read again: a no-op `db migrate` of 10,000 files then stats them
instead of reading and hashing them, and still compares every checksum with the history table.

An entry counts only while the file's identity is the same: device, inode, size, mtime and ctime (all
in nanoseconds). Any write changes ctime, even one that restores mtime (`touch -d`, `cp -p`, `git
checkout`), and a file replaced by rename has a new inode, so a changed file is always read. A file
whose ctime is within RACY_SECONDS of when it was read is never kept: a write in the same tick of a
coarse filesystem clock would leave every stat field as it was (git's "racily clean" entries). The
whole cache is dropped when the code that derives an entry changes (its format, toolkit's version, the
checksum, directive and reader modules' own bytes) or it describes another migrations folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from pathlib import Path

from toolkit.migrations.directives import Directives
from toolkit.support.log import get_logger

log = get_logger(__name__)

FORMAT = 2  # 2: one string per file (a list of lists per file held 5 MiB at 10,000 files)
RACY_SECONDS = 2.0


@functools.cache
def _code_digest() -> str:
    from toolkit import __version__

    digest = hashlib.sha256(__version__.encode())
    for name in ("checksum.py", "directives.py", "source.py", "known_files.py"):
        digest.update(Path(__file__).with_name(name).read_bytes())
    return digest.hexdigest()


def _code_key() -> str:
    return f"{FORMAT}:{_code_digest()}"


def identity(stat: os.stat_result) -> str:
    """Device, inode, size, mtime and ctime (ns), as the first field of the file's entry."""
    return f"{stat.st_dev}.{stat.st_ino}.{stat.st_size}.{stat.st_mtime_ns}.{stat.st_ctime_ns}"


def directives_to_json(d: Directives) -> list | None:
    if d == Directives():
        return None
    return [d.transactional, list(d.environments) if d.environments is not None else None, sorted(d.allow),
            d.lock_timeout, d.statement_timeout]  # fmt: skip


# The directives of a file that has none, which is most files: one object for all of them.
NO_DIRECTIVES = Directives()


def interned(directives: Directives) -> Directives:
    """NO_DIRECTIVES for a file without directives, so 10,000 such files hold one object, not 10,000."""
    return NO_DIRECTIVES if directives == NO_DIRECTIVES else directives


def directives_from_json(value: list | None) -> Directives:
    if value is None:
        return NO_DIRECTIVES
    transactional, environments, allow, lock_timeout, statement_timeout = value
    return Directives(
        transactional, tuple(environments) if environments is not None else None, frozenset(allow),
        lock_timeout, statement_timeout,
    )  # fmt: skip


class KnownFiles:
    """The cache of one migrations folder, in one JSON file (`path`); None as path: nothing is kept."""

    def __init__(self, path: Path | None, sql_dir: Path) -> None:
        self.path, self.sql_dir = path, str(sql_dir.resolve()) if path else str(sql_dir)
        # script -> "identity checksum sha256 directives-JSON": one string per file, split only when the
        # file's identity matches (a list of lists of numbers per file was most of a 10,000-file run's memory).
        self.entries: dict[str, str] = {}
        self.changed = False
        self.hits = 0
        self._key = _code_key() if path else ""
        if path is not None:
            self.entries = self._read()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if isinstance(data, dict) and data.get("key") == self._key and data.get("sql_dir") == self.sql_dir:
            entries = data.get("files")
            return entries if isinstance(entries, dict) else {}
        return {}

    def where(self, script: str) -> str:
        """The file's path as a string (cheaper to stat than a Path: 10,000 of them)."""
        return os.path.join(self.sql_dir, script)

    def lookup(self, script: str, stat: os.stat_result) -> tuple[int, str, Directives] | None:
        """(checksum, sha256, directives) recorded for this very file, or None: read it."""
        # Taken out as it is asked for: by the end of a load of 10,000 files the parsed cache is gone,
        # rather than held beside every source it helped to build (`save` reads it again if it must).
        entry = self.entries.pop(script, None)
        if not isinstance(entry, str):
            return None
        found_identity, _, rest = entry.partition(" ")
        if found_identity != identity(stat):
            return None
        try:
            checksum, sha256, directives = rest.split(" ", 2)
            parsed = NO_DIRECTIVES if directives == "null" else directives_from_json(json.loads(directives))
            found = int(checksum), sha256, parsed
        except (TypeError, ValueError):
            return None
        if len(sha256) != 64:
            return None
        self.hits += 1
        return found

    def remember(self, script: str, stat: os.stat_result, checksum: int, sha256: str, directives: Directives) -> None:
        if self.path is None or stat.st_ctime_ns > time.time_ns() - int(RACY_SECONDS * 1e9):
            return  # racily clean: a write within the same clock tick would not show in the stat
        directives_json = json.dumps(directives_to_json(directives), separators=(",", ":"))
        self.entries[script] = f"{identity(stat)} {checksum} {sha256} {directives_json}"
        self.changed = True

    def save(self, scripts: set[str]) -> None:
        """Write the entries of the files that exist now (removed files dropped), if anything changed: what
        this run learnt over the cache as it was (the entries `lookup` took out were the files' own)."""
        if self.path is None:
            return
        if not self.changed and not set(self.entries) - scripts:  # nothing learnt, no file gone
            return
        from toolkit.support.cache import write_atomically

        entries = self._read()
        entries.update(self.entries)
        kept = {script: entry for script, entry in entries.items() if script in scripts}
        data = {"key": self._key, "sql_dir": self.sql_dir, "files": kept}
        write_atomically(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"), "migration file cache")
