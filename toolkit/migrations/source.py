"""Migration files as identities (Flyway checksum, SHA-256 of the bytes, directives); their text read when asked.

Everything after discovery (planning, lint, dry-run, applying, drift) works on these. A source keeps
no text and no statements: each step that needs them reads the file again, checks its bytes against
the SHA-256, and forgets them, so memory does not grow with the number of files (a file is a few
hundred bytes to read again from the page cache; holding 10,000 texts and their statement index was
most of a run's growth). A file changed since it was first read is refused wherever it is read again,
so what runs is always the file that was planned.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import ClassVar

from toolkit.errors import ValidationFailed
from toolkit.migrations.checksum import BOM, flyway_checksum
from toolkit.migrations.directives import DirectiveError, Directives, parse_directives
from toolkit.migrations.discovery import MigrationFile, MigrationSet
from toolkit.migrations.known_files import KnownFiles, interned
from toolkit.migrations.sqlsplit import Statement, split_statements
from toolkit.support.hashing import bytes_sha256, text_sha256

# As for the checksum and the splitter: \r\n, \r and \n end a line.
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


class MigrationSource:
    """One migration file: its Flyway checksum, directives and the SHA-256 of its bytes; the text is
    read from disk each time it is asked for (and checked against the SHA-256), unless the source was
    built in memory with its text. Immutable."""

    __slots__ = ("file", "_text", "directives", "_digest")

    file: MigrationFile
    directives: Directives
    # SHA-256 of the file's exact bytes (`sha256`, in hex): toolkit's identity of a migration ("same or
    # changed", in bundles, deployment records and promote-check), which any changed byte changes, line
    # breaks included; then Flyway's checksum (`checksum`: CRC32 without line breaks, only for the history
    # table and db validate) as a signed big-endian integer. One bytes object of 36: a third of the memory
    # of the hex text and an int, for each of 10,000 files.
    _digest: bytes
    # PostgreSQL's checks of what cannot run in a transaction (plan.py); MySQL's sources turn them off.
    postgres_checks: ClassVar[bool] = True

    def __init__(
        self, file: MigrationFile, text: str | None, checksum: int, directives: Directives, sha256: str | None = None
    ) -> None:
        if sha256 is None:  # built in memory (tests): the UTF-8 bytes of its text
            sha256 = text_sha256(text or "")
        for name, value in (("file", file), ("_text", text), ("directives", directives)):
            object.__setattr__(self, name, value)
        width = 4 if -(1 << 31) <= checksum < (1 << 31) else 8  # Flyway's are 32-bit; a test's may not be
        object.__setattr__(self, "_digest", bytes.fromhex(sha256) + checksum.to_bytes(width, "big", signed=True))

    @property
    def sha256(self) -> str:
        return self._digest[:32].hex()

    @property
    def checksum(self) -> int:
        return int.from_bytes(self._digest[32:], "big", signed=True)

    def __setattr__(self, name, value) -> None:
        raise AttributeError(f"MigrationSource is immutable ({name})")

    def __repr__(self) -> str:
        return f"MigrationSource({self.file.script!r}, checksum={self.checksum}, sha256={self.sha256[:12]}…)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MigrationSource) and (self.file, self._digest) == (other.file, other._digest)

    def __hash__(self) -> int:
        return hash((self.file, self._digest))

    @property
    def text(self) -> str:
        """As on disk, a leading BOM removed: read now, and refused if the file is no longer the one
        that was first read (its SHA-256). Not kept: a caller that needs it twice holds it itself."""
        if self._text is not None:
            return self._text
        try:
            raw, text = _read(self.file)
        except ValueError:
            raw, text = None, ""
        if raw is None or bytes_sha256(raw) != self.sha256:
            raise ValidationFailed(
                f"{self.file.script} changed while toolkit was running",
                [],
                hint="run the command again; nothing was run from the changed file",
            )
        return text[1:] if text.startswith(BOM) else text

    @property
    def script(self) -> str:
        return self.file.script

    @property
    def statements(self) -> tuple[Statement, ...]:
        """The file's statements (raises SplitError): the text read and split now, not kept."""
        return self.split(self.text)

    def split(self, text: str) -> tuple[Statement, ...]:
        """The statements of this file's `text` (as read by `text`), split by its engine's rules."""
        return tuple(self._split(text))

    @staticmethod
    def _split(text: str) -> list[Statement]:
        return split_statements(text)

    def runs_in(self, environment: str | None) -> bool:
        """False when `-- toolkit:environments=` leaves this environment out."""
        wanted = self.directives.environments
        if wanted is None or environment is None:
            return True
        return any(fnmatch.fnmatchcase(environment, pattern) for pattern in wanted)


@dataclass(frozen=True)
class LoadedMigrations:
    versioned: tuple[MigrationSource, ...]  # sorted by version
    repeatable: tuple[MigrationSource, ...]  # sorted by description

    def __iter__(self):
        yield from self.versioned
        yield from self.repeatable


def _read(file: MigrationFile) -> tuple[bytes, str]:
    try:
        with open(file.location, "rb") as handle:
            raw = handle.read()
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_ENDS.findall(raw, 0, exc.start)) + 1
        raise ValueError(
            f"{file.script}:{line}: not valid UTF-8 (byte {exc.start + 1}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ValueError(f"{file.script}: cannot be read: {exc.strerror}") from None


def read_source(file: MigrationFile, known: KnownFiles | None = None) -> MigrationSource:
    """Read and check one file; raises ValueError with the file (and line) in the message. With `known`,
    a file whose identity (inode, size, mtime, ctime) is recorded there is not read at all."""
    stat = None
    if known is not None and known.path is not None:
        try:
            stat = os.stat(known.where(file.script))
        except OSError as exc:
            raise ValueError(f"{file.script}: cannot be read: {exc.strerror}") from None
        found = known.lookup(file.script, stat)
        if found is not None:
            checksum, sha256, directives = found
            return MigrationSource(file, None, checksum, directives, sha256)
    raw, text = _read(file)
    checksum = flyway_checksum(text)
    if text.startswith(BOM):
        text = text[1:]
    try:
        directives = parse_directives(text)
    except DirectiveError as exc:
        raise ValueError(f"{file.script}:{exc.line}: {exc}") from None
    sha256 = bytes_sha256(raw)
    if stat is not None and len(raw) == stat.st_size:
        known.remember(file.script, stat, checksum, sha256, directives)
    return MigrationSource(file, None, checksum, interned(directives), sha256)  # the text is read again when asked


def load(migrations: MigrationSet | LoadedMigrations, known: KnownFiles | None = None) -> LoadedMigrations:
    """Read every versioned and repeatable file once (with `known`: the unchanged ones not at all); all
    problems (names, duplicates, encoding, directives) reported together."""
    if isinstance(migrations, LoadedMigrations):
        return migrations
    problems: list[str] = list(migrations.problems)

    def read_all(files: tuple[MigrationFile, ...]) -> tuple[MigrationSource, ...]:
        out = []
        for file in files:
            try:
                out.append(read_source(file, known))
            except ValueError as exc:
                problems.append(str(exc))
        return tuple(out)

    loaded = LoadedMigrations(read_all(migrations.versioned), read_all(migrations.repeatable))
    if known is not None:
        known.save({file.script for file in (*migrations.versioned, *migrations.repeatable)})
    if problems:
        raise ValidationFailed(
            "migration files are not valid:",
            problems,
            hint="rename or fix the files (a version may be used once); nothing was run",
        )
    return loaded
