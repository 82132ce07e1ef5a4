"""Verifying a plan bundle against what is true now, before anything is applied: pure, every difference listed.

Nothing a manifest claims is trusted on its own: what the saved plans will do is read from the plans
themselves, and every input is hashed again and compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from toolkit.bundle.manifest import Manifest, StackInputs


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
        if now.inputs.overrides != record.inputs.overrides:
            problems.append(f"{where}: its override files (*_override.tf) changed since the plan")
        for path in sorted(set(record.inputs.external) | set(now.inputs.external)):
            if record.inputs.external.get(path) != now.inputs.external.get(path):
                problems.append(f"{where}: {path} (read from outside the stack's folder) changed since the plan")
        for path in sorted(set(record.inputs.var_files) | set(now.inputs.var_files)):
            if record.inputs.var_files.get(path) != now.inputs.var_files.get(path):
                problems.append(f"{where}: var file {path} changed since the plan")
    return problems


def migration_problems(planned: Mapping[str, str], allowed: Mapping[str, str], on_disk: Mapping[str, str]) -> list[str]:
    """Migration files now (script -> SHA-256 of its bytes, those that run in the environment) against the
    ones the plan saw and the ones it allowed to run: added, removed or changed by a single byte (a line
    break, a comment, CRLF for LF) since is each a refusal."""
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
            found.append(f"migration {script} changed since the plan (SHA-256 {_short(was)} → {_short(now)})")
    return found


def _short(digest: object) -> str:
    return str(digest)[:12]


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
