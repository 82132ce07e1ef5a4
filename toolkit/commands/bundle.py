"""Plan bundles (`toolkit plan ENV --out DIR`, `toolkit apply ENV --plan DIR`): review once, apply exactly that.

The bundle records, beside each stack's saved plan, the migrations allowed to run (with checksums) and
the rendered pipelines themselves (`rendered/`, with their hashes in `pipelines.json`): a saved plan
re-reads the rendered files when it is applied, so apply puts the reviewed ones back where the plan read
them. Apply refuses, before changing anything, if any of them changed since. This module holds what both
sides share; `commands/plan_bundle.py` writes bundles and `commands/apply_bundle.py` applies them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.config import Environment
from toolkit.migrations.apply import AppliedStep
from toolkit.migrations.source import LoadedMigrations
from toolkit.terraform.summary import PlanSummary

PIPELINES = "pipelines.json"
RENDERED = "rendered"  # the rendered pipelines the saved plans read, as reviewed


@dataclass(frozen=True)
class BundleResult:
    environment: str
    folder: str
    summaries: tuple[PlanSummary, ...]
    migrations: tuple[str, ...]  # scripts allowed to run at apply time
    pipelines: dict[str, str]  # rendered pipeline -> sha256
    deferred: dict[str, str] = field(default_factory=dict)  # stack -> why it is planned after this is applied
    lint: dict[str, dict] = field(default_factory=dict)  # migration allowed to run -> lint verdict, findings

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes for s in self.summaries) or bool(self.migrations) or bool(self.deferred)


@dataclass(frozen=True)
class BundleApplyResult:
    environment: str
    applied_stacks: tuple[str, ...]
    unchanged_stacks: tuple[str, ...]
    migrations_applied: tuple[AppliedStep, ...]
    deferred: dict[str, str] = field(default_factory=dict)  # stacks left for the next plan, with why
    warnings: tuple[str, ...] = ()


def rendered_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder).with_suffix("")): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.json"))
    }


def migration_files(env: Environment, loaded: LoadedMigrations) -> dict[str, int]:
    """Every migration file that runs in the environment, with its checksum (what the plan saw)."""
    return {m.script: m.checksum for m in (*loaded.versioned, *loaded.repeatable) if m.runs_in(env.name)}


def record_ephemeral(ctx: Context, env: Environment, branch: str | None) -> None:
    """As env up does: an ephemeral environment gets its lifecycle record (and so its expiry, injected as
    `expires_at`) before its workspaces are created, so `env reap` finds whatever a plan or apply leaves."""
    if env.ephemeral:
        from toolkit.commands.environments import record_ephemeral

        record_ephemeral(ctx, env, branch)
