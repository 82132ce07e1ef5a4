"""Which migrations are pending, and what stops a run before anything is applied. Pure: no database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import MigrationFile, MigrationSet
from toolkit.migrations.history import AppliedMigration


@dataclass(frozen=True)
class PendingMigration:
    file: MigrationFile
    checksum: int
    sql: str


@dataclass(frozen=True)
class MigrationPlan:
    pending: tuple[PendingMigration, ...]
    applied: int
    problems: tuple[str, ...]  # each one blocks the run

    @property
    def ok(self) -> bool:
        return not self.problems


def read_sql(file: MigrationFile) -> str:
    """A migration's text; a BOM is kept out of the SQL (the checksum drops it too)."""
    text = file.path.read_text(encoding="utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def plan_migrations(
    migrations: MigrationSet,
    applied: Iterable[AppliedMigration],
    read: Callable[[MigrationFile], str] = read_sql,
) -> MigrationPlan:
    """Compare the files with the history table, in one pass over each."""
    problems: list[str] = []
    by_version: dict = {}
    for row in applied:
        if row.version is None:
            continue
        if not row.success:
            problems.append(
                f"{row.script}: version {row.version} failed in an earlier run and is "
                "recorded as failed; fix the database, then run `toolkit db repair`"
            )
        by_version[row.version] = row
    highest = max(by_version, default=None)
    pending: list[PendingMigration] = []
    seen = set()
    for file in migrations.versioned:
        try:
            sql = read(file)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file.script}: cannot be read as UTF-8: {exc}")
            continue
        checksum = flyway_checksum(sql)
        row = by_version.get(file.version)
        seen.add(file.version)
        if row is None:
            if highest is not None and file.version < highest:
                problems.append(
                    f"{file.script}: version {file.version} is not applied but "
                    f"{highest} already is (out of order); give it a version above "
                    f"{highest}"
                )
            pending.append(PendingMigration(file, checksum, sql))
        elif row.success and row.checksum != checksum:
            problems.append(
                f"{file.script}: changed after it was applied (checksum {row.checksum} "
                f"in the database, {checksum} on disk); restore the file and put the change "
                "in a new migration"
            )
    for version, row in by_version.items():
        if version not in seen and row.type != "BASELINE":
            problems.append(f"{row.script}: version {version} is applied but its file is missing")
    return MigrationPlan(pending=tuple(pending), applied=len(by_version), problems=tuple(problems))
