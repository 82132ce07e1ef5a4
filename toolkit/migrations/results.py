"""What a migration run reports: the files it applied, or with --dry-run the SQL it would run. Kept apart
from the engine that produces them, so a caller that only shows a result (a verified no-op, the text
renderer) does not import the engine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AppliedStep:
    script: str
    version: str
    milliseconds: int


@dataclass(frozen=True)
class DryRunStep:
    script: str
    version: str | None
    reason: str
    transactional: bool
    sql: str  # exactly what would run, sensitive placeholder values masked


@dataclass(frozen=True)
class MigrateResult:
    applied: tuple[AppliedStep, ...]
    already_applied: int
    would_apply: tuple[DryRunStep, ...] = ()  # --dry-run only
    dry_run: bool = False
