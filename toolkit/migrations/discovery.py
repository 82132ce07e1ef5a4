"""Find migration files and parse Flyway's file-name grammar.

`V<version>__<description>.sql` (versioned), `U<version>__<description>.sql` (undo) and
`R__<description>.sql` (repeatable), split as Flyway splits them: the version is what comes before the
first `__`, the description everything after it, each `_` a space (a trailing `_` is a trailing space;
`V1__.sql` has an empty description). In a version, `_` means `.`; versions compare numerically part by
part and trailing zeros do not count, so `1`, `1.0` and `01` are one version (a duplicate if two files
use it). A `.sql` file that starts like a migration but does not parse is an error, unless the project
turns `validate_migration_naming` off, when it is skipped as Flyway skips it by default.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import total_ordering
from pathlib import Path

from toolkit.errors import ValidationFailed
from toolkit.support.paths import link_problem

_VERSION = re.compile(r"^\d+(\.\d+)*$")
# A prefix and a digit or `_`, a lower-case v/u and a digit, or a prefix letter with `__` after it: meant
# as a migration, so it must parse.
_LOOKS_LIKE = re.compile(r"^([VUvu]\d|[VUR][\d_.]|[VURvur][^_]*__)")


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    parts: tuple[int, ...]  # trailing zeros stripped: the identity of the version
    text: str  # as written in the file name, dots for underscores

    @classmethod
    def parse(cls, text: str) -> Version:
        found = _VERSIONS.get(text)
        if found is None:
            if len(_VERSIONS) >= _VERSIONS_KEPT:  # a long-lived process (tests, a notebook) starts over
                _VERSIONS.clear()
            found = _VERSIONS[text] = _parse_version(text)
        return found

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __lt__(self, other: Version) -> bool:
        return self.parts < other.parts

    def __str__(self) -> str:
        return self.text


# Every version parsed, by its text: the history table and the files name the same versions, thousands of
# times per run, and both then share one object (a plain dict: an LRU's bookkeeping would cost more memory
# than the versions themselves).
_VERSIONS: dict[str, Version] = {}
_VERSIONS_KEPT = 65536


def _parse_version(text: str) -> Version:
    text = text.replace("_", ".")
    if not _VERSION.match(text):
        raise ValueError(f"{text!r} is not a version (digits separated by '.' or '_')")
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return Version(tuple(parts), text)


@dataclass(frozen=True, slots=True)
class MigrationFile:
    kind: str  # "versioned", "undo", "repeatable"
    version: Version | None
    # The folder it is in, one string shared by every file of that folder: a run holds 10,000 of these,
    # and a Path each (with its parts and cached string) would be most of their memory.
    folder: str
    script: str  # the path relative to the sql folder, as recorded in the history table

    @property
    def type_code(self) -> str:
        return "SQL"

    @property
    def name(self) -> str:
        return self.script.rpartition("/")[2]

    @property
    def description(self) -> str:
        """After the first `__`, every `_` read as a space, kept exactly (history rows and repeatables
        match on it); made when asked, not held by each of 10,000 files."""
        name = self.name
        return name[name.find("__") + 2 : -4].replace("_", " ")

    @property
    def location(self) -> str:
        """Where the file is, as a string made for one use."""
        return os.path.join(self.folder, self.name)

    @property
    def path(self) -> Path:
        return Path(self.folder, self.name)


_KINDS = {"V": "versioned", "U": "undo", "R": "repeatable"}


class NotAMigrationName(ValueError):
    """A name that looks like a migration but does not follow the grammar (skipped when naming is lax)."""


# The history table's version VARCHAR(50) and script VARCHAR(1000) (Flyway's layout): a longer value
# would fail the history row's INSERT after the migration's statements ran, so it is refused up front.
VERSION_MAX = 50
SCRIPT_MAX = 1000


def parse_name(path: Path, root: Path, script: str | None = None) -> MigrationFile | None:
    """The migration a file name describes; None for files that are not migrations at all.
    `script` is the path relative to root, when the caller has it already."""
    if script is None:
        script = path.relative_to(root).as_posix()
    return _parse(path.name, os.fspath(path.parent), script)


def _parse(name: str, folder: str, script: str) -> MigrationFile | None:
    if not name.endswith(".sql") or not _LOOKS_LIKE.match(name):
        return None
    if len(script) > SCRIPT_MAX:
        raise ValueError(
            f"{script}: the path below the migrations folder has {len(script)} characters, more than the "
            f"{SCRIPT_MAX} the history table's script column holds; shorten the folder or file names"
        )
    # Flyway's ResourceNameParser: the prefix letter, then up to the first `__` the version, after it
    # the description with every `_` read as a space, kept exactly (history rows and repeatables match on it).
    rest = name[1:-4]
    at = rest.find("__")
    if at < 0 or name[0] not in _KINDS:
        raise NotAMigrationName(
            f"{script}: looks like a migration but does not follow "
            "V<version>__<description>.sql, U<version>__… or R__<description>.sql"
        )
    kind = _KINDS[name[0]]
    version_text = rest[:at]
    if kind == "repeatable":
        if version_text:
            raise NotAMigrationName(f"{script}: a repeatable migration has no version (R__<description>.sql)")
        return MigrationFile(kind, None, folder, script)
    try:
        version = Version.parse(version_text)
    except ValueError as exc:
        raise NotAMigrationName(f"{script}: {exc}") from None
    if len(version.text) > VERSION_MAX:
        raise ValueError(
            f"{script}: version {version.text} has {len(version.text)} characters, more than the {VERSION_MAX} "
            "the history table's version column holds"
        )
    return MigrationFile(kind, version, folder, script)


@dataclass(frozen=True)
class MigrationSet:
    versioned: tuple[MigrationFile, ...]  # sorted by version
    repeatable: tuple[MigrationFile, ...]  # sorted by description
    undo: dict[Version, MigrationFile]
    # Names that do not parse, duplicates: `source.load` reports them with the files' own problems, so
    # every problem with the files comes out at once.
    problems: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # names that do not parse, with validate_migration_naming = false


def _sql_files(sql_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(script, name, folder) of every .sql file below sql_dir, sorted by script (one folder string per
    folder), and the links refused; os.walk
    and plain strings, as pathlib's rglob, relative_to and ordering cost more than the rest of discovery
    at 10,000 files. A symbolic link (file or folder) is followed only while it stays inside sql_dir, and
    a folder already walked (a link loop) is not walked again."""
    found: list[tuple[str, str, str]] = []
    refused: list[str] = []
    seen = {os.path.realpath(sql_dir)}
    for folder, dirs, names in os.walk(sql_dir, followlinks=True):
        relative = os.path.relpath(folder, sql_dir)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        walked = []
        for name in sorted(dirs):
            full = os.path.join(folder, name)
            problem = link_problem(full, sql_dir, prefix + name) if os.path.islink(full) else None
            real = os.path.realpath(full)
            if problem:
                refused.append(problem)
            elif real in seen:
                refused.append(f"{prefix + name} is a symbolic link to {real}, a folder already read (a loop)")
            else:
                seen.add(real)
                walked.append(name)
        dirs[:] = walked
        for name in names + walked:  # a folder named like a migration is reported, never skipped
            full = os.path.join(folder, name)
            problem = link_problem(full, sql_dir, prefix + name) if os.path.islink(full) else None
            if problem:
                refused.append(problem)
            elif name.endswith(".sql"):
                found.append((prefix + name, name, folder))
    found.sort()
    return found, refused


def discover(sql_dir: Path, *, validate_naming: bool = True) -> MigrationSet:
    """All migrations under sql_dir (recursively), with every naming problem in `problems` (raised,
    together with the files' own problems, by `source.load`); with `validate_naming` off, names that
    do not parse are `skipped` instead, as Flyway skips them by default."""
    if not sql_dir.is_dir():
        raise ValidationFailed(
            f"the migrations folder {sql_dir} does not exist",
            [],
            hint="create it, or set [project].sql in toolkit.toml",
        )
    files, problems = _sql_files(sql_dir)
    skipped: list[str] = []
    versioned: dict[Version, MigrationFile] = {}
    undo: dict[Version, MigrationFile] = {}
    repeatable: dict[str, MigrationFile] = {}
    for script, name, folder in files:
        try:
            found = _parse(name, folder, script)
        except NotAMigrationName as exc:
            if validate_naming:
                problems.append(str(exc))
            else:
                skipped.append(script)
            continue
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if found is None:
            continue
        if found.kind == "repeatable":
            seen = repeatable.setdefault(found.description, found)
        else:
            bucket = versioned if found.kind == "versioned" else undo
            seen = bucket.setdefault(found.version, found)
        if seen is not found:
            problems.append(
                f"{found.script}: {found.kind} migration duplicates {seen.script} "
                f"(same {'description' if found.kind == 'repeatable' else 'version'})"
            )
    return MigrationSet(
        versioned=tuple(versioned[v] for v in sorted(versioned)),
        repeatable=tuple(repeatable[d] for d in sorted(repeatable)),
        undo=undo,
        problems=tuple(problems),
        skipped=tuple(skipped),
    )
