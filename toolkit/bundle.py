"""The plan bundle: what `toolkit plan --out DIR` saw and decided, so `apply --plan DIR` does exactly that.

A bundle is a folder: `manifest.json` (environment, commit, engine, hashes of every input, each
stack's state lineage/serial and saved plan), one `<stack>.tfplan` per stack, `migrations.json`
(the migrations allowed to run, with checksums) and `summary.json` + `summary.md` for people.
Verification is pure: it compares a manifest with what is true now and lists every difference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError

FORMAT = 2  # 2: rendered pipelines carried in the bundle; stacks deferred to a second plan
MANIFEST = "manifest.json"
MIGRATIONS = "migrations.json"
_SKIP_DIRS = {".terraform", ".git", "__pycache__"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(directory: Path) -> str:
    """One hash over every file of a stack directory (names and contents), in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if _SKIP_DIRS.intersection(relative.parts) or path.suffix == ".tfplan":
            continue
        digest.update(relative.as_posix().encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class StackInputs:
    config: str  # tree hash of the stack directory (includes .terraform.lock.hcl)
    lock_file: str | None  # the provider lock file on its own, so a provider change is named
    var_files: dict[str, str]  # path relative to the project -> sha256


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


def stack_inputs(directory: Path, var_files: tuple[Path, ...], project_root: Path) -> StackInputs:
    lock = directory / ".terraform.lock.hcl"
    return StackInputs(
        config=tree_sha256(directory),
        lock_file=file_sha256(lock) if lock.exists() else None,
        var_files={
            (str(v.relative_to(project_root)) if v.is_relative_to(project_root) else str(v)): file_sha256(v)
            for v in var_files
        },
    )


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
    if raw.get("format") != FORMAT:
        raise ConfigError(
            f"bundle format {raw.get('format')!r} is not {FORMAT}",
            path=where,
            hint="make the plan again with this version of toolkit",
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


@dataclass(frozen=True)
class PlannedChanges:
    """What a saved plan itself will do (from `terraform show -json` of it), never what a manifest claims."""

    has_changes: bool
    deletes: tuple[str, ...]
    replaces: tuple[str, ...]


@dataclass(frozen=True)
class CurrentStack:
    """What is true now for one stack, gathered just before applying."""

    workspace: str
    lineage: str | None
    serial: int
    inputs: StackInputs
    plan_sha256: str | None  # of the bundle's plan file as it is now; None if missing
    planned: PlannedChanges | None = None  # read from the plan file; None when it is missing or modified


def verify(
    manifest: Manifest,
    *,
    environment: str,
    engine: str,
    engine_version: str,
    stacks: tuple[str, ...],
    current: Mapping[str, CurrentStack],
) -> list[str]:
    """Every reason the bundle must not be applied now; empty when it may.

    `stacks` are the environment's stacks; `current` what is true now for each of them that the plan has.
    """
    if manifest.environment != environment:
        return [f"the plan was made for environment {manifest.environment!r}, not {environment!r}"]
    problems = []
    if (manifest.engine, manifest.engine_version) != (engine, engine_version):
        made_with = f"{manifest.engine} {manifest.engine_version}"
        problems.append(f"the plan was made with {made_with}, this engine is {engine} {engine_version}")
    planned = {record.stack for record in manifest.stacks} | set(manifest.deferred)
    problems += [f"stack {s!r} of environment {environment!r} is not in the plan" for s in stacks if s not in planned]
    for record in manifest.stacks:
        now = current.get(record.stack)
        if record.stack not in stacks or now is None:
            problems.append(f"stack {record.stack!r} of the plan is not part of environment {environment!r}")
            continue
        where = f"stack {record.stack!r}"
        if now.workspace != record.workspace:
            problems.append(f"{where}: the plan is for workspace {record.workspace!r}, selected is {now.workspace!r}")
        if now.plan_sha256 != record.plan_sha256:
            problems.append(f"{where}: the saved plan file {record.plan_file} is missing or was modified")
        elif now.planned is not None:
            planned_now = now.planned
            lies = [
                key
                for key, claimed, true in (
                    ("changes", record.has_changes, planned_now.has_changes),
                    ("deletes", record.deletes, planned_now.deletes),
                    ("replaces", record.replaces, planned_now.replaces),
                )
                if claimed != true
            ]
            if lies:
                problems.append(
                    f"{where}: manifest.json does not match the saved plan {record.plan_file} ({', '.join(lies)})"
                )
        if (now.lineage, now.serial) != (record.lineage, record.serial):
            if record.lineage is not None and now.lineage != record.lineage:
                problems.append(f"{where}: the state was replaced (lineage {record.lineage} → {now.lineage})")
            else:
                problems.append(
                    f"{where}: the state moved on since the plan (serial {record.serial} → {now.serial}); plan again"
                )
        if now.inputs.config != record.inputs.config:
            problems.append(f"{where}: the Terraform configuration changed since the plan")
        if now.inputs.lock_file != record.inputs.lock_file:
            problems.append(f"{where}: the provider lock file (.terraform.lock.hcl) changed since the plan")
        for path in sorted(set(record.inputs.var_files) | set(now.inputs.var_files)):
            if record.inputs.var_files.get(path) != now.inputs.var_files.get(path):
                problems.append(f"{where}: var file {path} changed since the plan")
    return problems


def unsettled_outputs(stack: str, plan: Mapping[str, Any], has_state: bool) -> dict[str, str]:
    """Outputs of `stack` whose value a later stack cannot use yet (name -> why), from its plan's JSON: every
    output of a stack with no state, and each output the plan changes or leaves unknown."""
    found = {}
    for name, body in (plan.get("output_changes") or {}).items():
        if not has_state:
            found[name] = f"stack {stack!r} has no state yet: it must be applied first"
        elif (body.get("actions") or ["no-op"]) != ["no-op"] or body.get("after_unknown"):
            found[name] = f"stack {stack!r}'s plan changes its output {name!r}"
    return found


def deferral(stack: str, reads: set[str], unsettled: Mapping[str, str], deferred: Mapping[str, str]) -> str | None:
    """Why `stack` cannot be planned in this bundle (it reads unsettled outputs, or follows a deferred
    stack), or None when it can."""
    if deferred:
        return f"it comes after stack {next(iter(deferred))!r}, which is planned after this bundle is applied"
    stale = sorted(reads & set(unsettled))
    if not stale:
        return None
    reasons = sorted({unsettled[name] for name in stale})
    return f"it reads {', '.join(stale)}: " + "; ".join(reasons)


def migration_problems(planned: Mapping[str, int], allowed: Mapping[str, int], on_disk: Mapping[str, int]) -> list[str]:
    """Migration files now (script -> checksum, those that run in the environment) against the ones the
    plan saw and the ones it allowed to run: added, removed or changed since is each a refusal."""
    found = []
    for script in sorted(set(planned) | set(on_disk) | set(allowed)):
        was, now = planned.get(script, allowed.get(script)), on_disk.get(script)
        if was == now:
            continue
        if was is None:
            found.append(f"migration {script} was added after the plan")
        elif now is None:
            reviewed = " (it was reviewed to run)" if script in allowed else ""
            found.append(f"migration {script} was removed after the plan{reviewed}")
        else:
            found.append(f"migration {script} changed since the plan")
    return found


def commit_warning(planned: str | None, now: str | None) -> str | None:
    """A different commit is only worth a warning: every input that decides what is applied is hashed and
    compared on its own (stack code, files it reads, var files, migrations, rendered pipelines)."""
    if planned == now or planned is None or now is None:
        return None
    return f"the plan was made at commit {planned}, this checkout is at {now} (every input it applies is unchanged)"


def destructive_not_allowed(planned: Mapping[str, PlannedChanges], allowed: set[str]) -> list[str]:
    """Deletes and replaces in the saved plans (read from the plans themselves: the manifest is not signed)
    whose addresses were not explicitly allowed."""
    found = []
    for stack, changes in planned.items():
        found += [f"{stack}: delete {a}" for a in changes.deletes if a not in allowed]
        found += [f"{stack}: replace {a}" for a in changes.replaces if a not in allowed]
    return found
