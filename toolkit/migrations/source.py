"""Migration files read once: text, Flyway checksum, SHA-256 of the bytes, directives; statements split on demand.

Everything after discovery (planning, lint, dry-run, applying, drift) works on these, so a run reads
each file exactly once, however many steps look at it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import ClassVar

from toolkit.errors import ValidationFailed
from toolkit.migrations.checksum import BOM, flyway_checksum
from toolkit.migrations.directives import DirectiveError, Directives, parse_directives
from toolkit.migrations.discovery import MigrationFile, MigrationSet
from toolkit.migrations.sqlsplit import Statement, split_statements
from toolkit.support.hashing import bytes_sha256, text_sha256

# As for the checksum and the splitter: \r\n, \r and \n end a line.
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class MigrationSource:
    file: MigrationFile
    text: str  # as on disk, a leading BOM removed
    checksum: int  # Flyway's checksum (CRC32 without line breaks): only for the history table and db validate
    directives: Directives
    # SHA-256 of the file's exact bytes: toolkit's identity of a migration ("same or changed", in bundles,
    # deployment records and promote-check), which any changed byte changes, line breaks included.
    sha256: str | None = None
    # PostgreSQL's checks of what cannot run in a transaction (plan.py); MySQL's sources turn them off.
    postgres_checks: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.sha256 is None:  # built in memory (tests): the UTF-8 bytes of its text
            object.__setattr__(self, "sha256", text_sha256(self.text))

    @property
    def script(self) -> str:
        return self.file.script

    @property
    def statements(self) -> tuple[Statement, ...]:
        """Split on each use (raises SplitError): splitting is cheap, and keeping the statements of
        10,000 files would make memory grow with them."""
        return tuple(split_statements(self.text))

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


def read_source(file: MigrationFile) -> MigrationSource:
    """Read and check one file; raises ValueError with the file (and line) in the message."""
    try:
        raw = file.path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_ENDS.findall(raw, 0, exc.start)) + 1
        raise ValueError(
            f"{file.script}:{line}: not valid UTF-8 (byte {exc.start + 1}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ValueError(f"{file.script}: cannot be read: {exc.strerror}") from None
    checksum = flyway_checksum(text)
    if text.startswith(BOM):
        text = text[1:]
    try:
        directives = parse_directives(text)
    except DirectiveError as exc:
        raise ValueError(f"{file.script}:{exc.line}: {exc}") from None
    return MigrationSource(file, text, checksum, directives, bytes_sha256(raw))


def load(migrations: MigrationSet | LoadedMigrations) -> LoadedMigrations:
    """Read every versioned and repeatable file once; all problems (names, duplicates, encoding,
    directives) reported together."""
    if isinstance(migrations, LoadedMigrations):
        return migrations
    problems: list[str] = list(migrations.problems)

    def read_all(files: tuple[MigrationFile, ...]) -> tuple[MigrationSource, ...]:
        out = []
        for file in files:
            try:
                out.append(read_source(file))
            except ValueError as exc:
                problems.append(str(exc))
        return tuple(out)

    loaded = LoadedMigrations(read_all(migrations.versioned), read_all(migrations.repeatable))
    if problems:
        raise ValidationFailed(
            "migration files are not valid:",
            problems,
            hint="rename or fix the files (a version may be used once); nothing was run",
        )
    return loaded
