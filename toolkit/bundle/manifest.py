"""The plan bundle's format: what `toolkit plan --out DIR` saw and decided, so `apply --plan DIR` does exactly that.

A bundle is a folder: `manifest.json` (environment, commit, engine, hashes of every input, each
stack's state lineage/serial and saved plan), one `<stack>.tfplan` per stack, `migrations.json` (every
migration file that runs, and those allowed to, by SHA-256 of their bytes, with lint verdicts),
`pipelines.json` and `rendered/` (the rendered pipelines the saved plans read), and `summary.json` +
`summary.md` for people.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.migrations.source import LoadedMigrations
from toolkit.support.hashing import file_sha256, ordered_sha256
from toolkit.terraform.sources import external_inputs, lock_file_sha256, overrides_sha256, shown, tree_sha256

# 2: rendered pipelines carried in the bundle; stacks deferred to a second plan.
# 3: migrations identified by the SHA-256 of their bytes (no longer Flyway's CRC32, which ignores line breaks).
# 4: several databases: in a project of several, migrations.json names each file `<database>/<script>`
#    (a one-database bundle is as in format 3, which is still applied).
FORMAT = 4
READABLE = (3, 4)
MANIFEST = "manifest.json"
MIGRATIONS = "migrations.json"
PIPELINES = "pipelines.json"
RENDERED = "rendered"  # the rendered pipelines the saved plans read, as reviewed


@dataclass(frozen=True)
class StackInputs:
    config: str  # tree_sha256 of the stack directory: its code, without lock and override files
    lock_file: str | None  # the provider lock file on its own, so a provider change is named
    var_files: dict[str, str]  # path relative to the project -> sha256
    overrides: str | None = None  # the stack's own override files (*_override.tf), None without any
    external: dict[str, str] = field(default_factory=dict)  # read from outside its folder: path -> hash


@dataclass(frozen=True)
class StackRecord:
    stack: str
    workspace: str
    plan_file: str
    plan_sha256: str
    has_changes: bool
    lineage: str | None
    serial: int
    inputs: StackInputs
    deletes: tuple[str, ...]
    replaces: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    format: int
    environment: str
    created_at: str
    git_commit: str | None
    engine: str
    engine_version: str
    stacks: tuple[StackRecord, ...]
    # Stacks left for a second plan, with why: they read an earlier stack's output that this bundle's
    # plan changes (or that has no state yet), so a plan made now would deploy stale values.
    deferred: dict[str, str] = field(default_factory=dict)


def stack_inputs(
    directory: Path, var_files: tuple[Path, ...], root: Path, injected_folders: Mapping[str, Path]
) -> StackInputs:
    """The hashes of everything one stack's plan is made from (`root`: the project, paths are shown from it)."""
    return StackInputs(
        config=tree_sha256(directory),
        lock_file=lock_file_sha256(directory),
        var_files={shown(v, root): file_sha256(v) for v in var_files},
        overrides=overrides_sha256(directory),
        external=external_inputs(directory, root, injected_folders),
    )


def migration_files(environment: str, loaded: LoadedMigrations) -> dict[str, str]:
    """Every migration file that runs in the environment, with the SHA-256 of its bytes (what the plan saw)."""
    return {m.script: m.sha256 for m in loaded if m.runs_in(environment)}


def migrations_sha256(environment: str, loaded: LoadedMigrations) -> str:
    """One digest over the migrations that run in the environment, in the order they run."""
    return ordered_sha256((m.script, m.sha256) for m in loaded if m.runs_in(environment))


def qualified(database: str, script: str, several: bool) -> str:
    """How a bundle names a migration file: `<database>/<script>` in a project of several databases."""
    return f"{database}/{script}" if several else script


def all_migration_files(environment: str, loaded: dict[str, LoadedMigrations]) -> dict[str, str]:
    """`migration_files` of every database (name -> its files, in order), each named by `qualified`."""
    several = len(loaded) > 1
    return {
        qualified(name, script, several): digest
        for name, files in loaded.items()
        for script, digest in migration_files(environment, files).items()
    }


def all_migrations_sha256(environment: str, loaded: dict[str, LoadedMigrations]) -> str:
    """`migrations_sha256` over every database in order (for one database, exactly that)."""
    several = len(loaded) > 1
    return ordered_sha256(
        (qualified(name, m.script, several), m.sha256)
        for name, files in loaded.items()
        for m in files
        if m.runs_in(environment)
    )


def too_old(manifest: Manifest, max_age_seconds: int | None, now: datetime) -> str | None:
    """Why a plan is too old to apply (made longer than `max_age_seconds` ago), or None."""
    if max_age_seconds is None:
        return None
    try:
        made = datetime.fromisoformat(manifest.created_at)
        if made.tzinfo is None:
            raise ValueError("no time zone")
    except (TypeError, ValueError):
        return f"has no readable creation time ({manifest.created_at!r}), so its age cannot be checked"
    if made > now + timedelta(minutes=5):
        return f"was made at {manifest.created_at}, in the future: its age cannot be checked"
    if (now - made).total_seconds() > max_age_seconds:
        return f"was made at {manifest.created_at}, more than --max-age ({max_age_seconds // 60} minutes) ago"
    return None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            "not a plan bundle: manifest.json is missing",
            path=str(folder),
            hint="make one with toolkit plan ENV --out DIR",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the plan manifest: {exc.strerror or exc}", path=str(path)) from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"not a readable plan manifest: {exc}", path=str(path)) from None
    return parse_manifest(raw, str(path))


def parse_manifest(raw: Any, where: str) -> Manifest:
    """A manifest from its JSON, or ConfigError naming what is wrong with it."""
    if not isinstance(raw, dict):
        raise ConfigError(f"not a plan manifest: a JSON object is expected, not {type(raw).__name__}", path=where)
    if raw.get("format") not in READABLE:
        found = raw.get("format")
        older = isinstance(found, int) and found < READABLE[0]
        raise ConfigError(
            f"the plan bundle is format {found!r}, this toolkit applies formats {READABLE[0]} to {FORMAT} only"
            + (" (older bundles identify migrations by Flyway's CRC32, which misses edits)" if older else ""),
            path=where,
            hint="plan again with this version of toolkit (toolkit plan ENV --out DIR), review it, and apply that",
        )
    try:
        stacks = tuple(
            StackRecord(
                **{
                    **s,
                    "inputs": StackInputs(**s["inputs"]),
                    "deletes": tuple(s["deletes"]),
                    "replaces": tuple(s["replaces"]),
                }
            )
            for s in raw["stacks"]
        )
        deferred = raw.get("deferred", {})
        if not isinstance(deferred, dict):
            raise TypeError("deferred is not an object")
        return Manifest(**{**raw, "stacks": stacks, "deferred": deferred})
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"not a readable plan manifest: {type(exc).__name__}: {exc}", path=where) from None
