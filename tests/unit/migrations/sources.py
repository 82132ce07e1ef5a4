"""Build migration sources in memory (no files) for the unit tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.directives import parse_directives
from toolkit.migrations.discovery import Version, parse_name
from toolkit.migrations.history import AppliedMigration
from toolkit.migrations.source import LoadedMigrations, MigrationSource

ROOT = Path("/project/sql")


def source(name: str, text: str) -> MigrationSource:
    file = parse_name(ROOT / name, ROOT)
    return MigrationSource(file, text, flyway_checksum(text), parse_directives(text))


def loaded(*sources: MigrationSource) -> LoadedMigrations:
    versioned = sorted((s for s in sources if s.file.kind == "versioned"), key=lambda s: s.file.version)
    repeatable = sorted((s for s in sources if s.file.kind == "repeatable"), key=lambda s: s.file.description)
    return LoadedMigrations(tuple(versioned), tuple(repeatable))


def row(rank: int, src: MigrationSource | None = None, *, version=None, checksum=None, success=True, type_="SQL"):
    if src is not None:
        version = src.file.version
        checksum = src.checksum if checksum is None else checksum
    return AppliedMigration(
        installed_rank=rank,
        version=Version.parse(version) if isinstance(version, str) else version,
        description=src.file.description if src else "<< Flyway Baseline >>",
        type=type_,
        script=src.script if src else "<< Flyway Baseline >>",
        checksum=checksum,
        installed_by="me",
        installed_on=datetime(2026, 1, 1),
        execution_time=1,
        success=success,
    )
