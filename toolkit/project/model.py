"""The project as toolkit.toml declares it: where things live, stacks in order, environments, settings.

Loaded and checked by `toolkit.project.loader`; everything here is frozen data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.errors import UnknownEnvironment
from toolkit.project.durations import terraform_duration_seconds
from toolkit.project.names import ENV_NAME_RE, NAME_RULES

ENGINES = ("auto", "embedded", "terraform", "tofu")
DATABASE_MODES = ("embedded", "external")
BACKEND_TYPES = ("local", "s3")


@dataclass(frozen=True)
class Backend:
    type: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Environment:
    name: str
    stacks: dict[str, Path]  # stack name -> directory, in the project's stack order
    backend: Backend
    var_files: tuple[Path, ...]
    protected: bool = False
    database: str = "external"  # "embedded": toolkit runs a local PostgreSQL described by the outputs
    create_workspace: bool = False  # named environments need `toolkit env create`; local may auto-create
    ephemeral: bool = False  # an instance of the ephemeral class: created on demand, reaped after its TTL
    ttl_seconds: int | None = None

    def stack_dir(self, stack: str) -> Path:
        return self.stacks[stack]


@dataclass(frozen=True)
class EphemeralClass:
    """Short-lived environments (one per pull request or branch) built from one template."""

    patterns: tuple[str, ...]  # e.g. ("pr-<n>", "eph-<slug>")
    template: Environment
    ttl_seconds: int
    max_length: int

    @property
    def regex(self) -> re.Pattern[str]:
        parts = []
        for pattern in self.patterns:
            literal = re.escape(pattern).replace("<n>", "[0-9]+").replace("<slug>", "[a-z0-9]+(?:-[a-z0-9]+)*")
            parts.append(f"(?:{literal})")
        return re.compile(r"\A(?:" + "|".join(parts) + r")\Z")  # not "$": it matches before a final newline

    def matches(self, name: str) -> bool:
        return len(name) <= self.max_length and bool(self.regex.match(name))

    def environment(self, name: str) -> Environment:
        return replace(self.template, name=name, create_workspace=True, ephemeral=True, ttl_seconds=self.ttl_seconds)


GRACE_PERIOD_ENV_VAR = "TOOLKIT_GRACE_PERIOD"
LOCK_TIMEOUT_ENV_VAR = "TOOLKIT_LOCK_TIMEOUT"  # a CI job may wait longer (or not at all) than people do


@dataclass(frozen=True)
class TerraformSettings:
    engine: str = "auto"
    lock_timeout: str = "5m"
    # After an interrupt, how long Terraform may take to stop cleanly (release its lock) before it gets
    # SIGTERM. CI runners kill everything soon after their own SIGTERM, so set it to fit the runner.
    grace_period: str = "30s"
    # The caller's variables Terraform also gets, beyond the allowlist (terraform/engine.py): `NAME` or
    # `PREFIX_*`, e.g. the credentials of a provider other than AWS.
    pass_env: tuple[str, ...] = ()

    @property
    def grace_seconds(self) -> float:
        return terraform_duration_seconds(self.grace_period)


@dataclass(frozen=True)
class MigrationSettings:
    engine: str = "postgres"  # the files' SQL dialect ("postgres" or "mysql"); the database output must agree
    history_table: str = "flyway_schema_history"
    schema: str = "public"
    lock_timeout_seconds: float = 60.0
    # Set per migration once the advisory lock is held (PostgreSQL syntax); a file can override them.
    lock_timeout: str = "10s"
    statement_timeout: str = "0"
    out_of_order: bool = False
    # Flyway's own switches, for a project taken over as it is
    placeholders: dict[str, str] = field(default_factory=dict)  # [migrations.placeholders], below values(ENV)
    placeholder_replacement: bool = True
    validate_migration_naming: bool = True  # false: skip names that do not parse, as Flyway does by default
    # [migrations.lint]: a severity per rule ("error" or "warning"), rules allowed per file (path below sql/)
    lint_severity: dict[str, str] = field(default_factory=dict)
    lint_allow: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    root: Path
    config_path: Path
    name: str
    sql_dir: Path
    pipelines_dir: Path
    tfvars_dir: Path
    state_dir: Path
    stack_order: tuple[str, ...]
    environments: dict[str, Environment]
    terraform: TerraformSettings
    migrations: MigrationSettings
    ephemeral: EphemeralClass | None = None

    def environment(self, name: str) -> Environment:
        """A named environment, or an instance of the ephemeral class; anything else is an error."""
        if name in self.environments:
            return self.environments[name]
        if self.ephemeral is not None and self.ephemeral.matches(name):
            return self.ephemeral.environment(name)
        patterns = list(self.ephemeral.patterns) if self.ephemeral else []
        error = UnknownEnvironment(name, sorted(self.environments), patterns)
        why = self._why_unknown(name)
        if why is not None:
            error.message = f"{error.message}: {why[0]}"
            error.hint = why[1]
        raise error

    def _why_unknown(self, name: str) -> tuple[str, str] | None:
        """(reason, hint) when the name could never be an environment, or is an ephemeral name too long."""
        lowered = name.lower()
        if lowered != name and (lowered in self.environments or (self.ephemeral and self.ephemeral.matches(lowered))):
            return "environment names are lower-case", f"did you mean {lowered!r}?"
        if len(name) > 40:
            return f"it is {len(name)} characters long; environment names have at most 40", NAME_RULES
        if not ENV_NAME_RE.match(name):
            return "not a valid environment name", NAME_RULES
        eph = self.ephemeral
        if eph is not None and eph.regex.match(name) and len(name) > eph.max_length:
            return (
                f"it has the form of an ephemeral name but is {len(name)} characters long; "
                f"[ephemeral].max_length is {eph.max_length}",
                "derive the name with `toolkit env name --from-branch BRANCH`, which keeps it within max_length",
            )
        return None
