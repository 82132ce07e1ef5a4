"""The plan bundle: what `toolkit plan --out DIR` saw and decided, so `apply --plan DIR` does exactly that.

A bundle is a folder: `manifest.json` (environment, commit, engine, hashes of every input, each
stack's state lineage/serial and saved plan), one `<stack>.tfplan` per stack, `migrations.json`
(the migrations allowed to run, with checksums) and `summary.json` + `summary.md` for people.
Verification is pure: it compares a manifest with what is true now and lists every difference.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.aws.emulator import OVERRIDE_NAME as EMULATOR_OVERRIDE
from toolkit.errors import ConfigError

if TYPE_CHECKING:
    from toolkit.config import Project

FORMAT = 2  # 2: rendered pipelines carried in the bundle; stacks deferred to a second plan
MANIFEST = "manifest.json"
MIGRATIONS = "migrations.json"
_SKIP_DIRS = {".terraform", ".git", "__pycache__", "terraform.tfstate.d"}
_SKIP_SUFFIXES = (".tfplan", ".tfstate", ".tfstate.backup")
LOCK_FILE = ".terraform.lock.hcl"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_override(name: str) -> bool:
    """Terraform's override files, merged over the configuration (toolkit writes one in emulator mode)."""
    return name in ("override.tf", "override.tf.json") or name.endswith(("_override.tf", "_override.tf.json"))


def _tree_sha256(directory: Path, keep) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if _SKIP_DIRS.intersection(relative.parts) or path.name.endswith(_SKIP_SUFFIXES) or not keep(path.name):
            continue
        digest.update(relative.as_posix().encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return digest.hexdigest()


def tree_sha256(directory: Path) -> str:
    """One hash over a folder's code (names and contents), in a stable order. Left out: what Terraform writes
    there (data folders, saved plans, state), the provider lock file (a fresh checkout may not have it
    before `init`; a manifest hashes it on its own) and override files (toolkit's emulator override exists
    only while Terraform runs; a manifest hashes the others on their own)."""
    return _tree_sha256(directory, lambda name: name != LOCK_FILE and not is_override(name))


def overrides_sha256(directory: Path) -> str | None:
    """One hash over the stack's own override files (not toolkit's emulator override), None without any."""
    if not any(is_override(p.name) and p.name != EMULATOR_OVERRIDE for p in directory.rglob("*")):
        return None
    return _tree_sha256(directory, lambda name: is_override(name) and name != EMULATOR_OVERRIDE)


# `source = "../modules/x"` (HCL) or `"source": "./x"` (JSON): a module or file the stack reads by path.
_LOCAL_SOURCE = re.compile(r'"?\bsource"?\s*[=:]\s*"(\.\.?/[^"$]*)"')


def glue_scripts_dir(project: Project) -> Path:
    """The Glue job scripts, which toolkit injects as `glue_scripts_dir` into a stack that declares it."""
    return project.pipelines_dir / "glue" / "scripts"


def external_inputs(directory: Path, project: Project) -> dict[str, str]:
    """What the stack reads from outside its folder, path (relative to the project) -> hash: local module
    sources and files (`source = "../…"`, followed into the modules' own), and the Glue scripts folder
    toolkit injects when the stack declares `glue_scripts_dir`. A path that does not exist hashes as
    "missing", so it appearing later is a change too."""
    from toolkit.terraform.hcl import read_stack

    home = directory.resolve()
    found: dict[str, str] = {}
    todo, seen = [home], {home}
    while todo:
        folder = todo.pop()
        for tf in sorted(p for p in folder.rglob("*.tf*") if p.name.endswith((".tf", ".tf.json"))):
            if _SKIP_DIRS.intersection(tf.relative_to(folder).parts):
                continue
            for match in _LOCAL_SOURCE.finditer(tf.read_text(encoding="utf-8", errors="replace")):
                target = (tf.parent / match[1]).resolve()
                if target in seen or target.is_relative_to(home):
                    continue
                seen.add(target)
                found[_shown(target, project.root)] = _path_sha256(target)
                if target.is_dir():
                    todo.append(target)
    if "glue_scripts_dir" in read_stack(directory).variables:
        scripts = glue_scripts_dir(project)
        found[_shown(scripts, project.root)] = _path_sha256(scripts)
    return found


def _path_sha256(path: Path) -> str:
    return tree_sha256(path) if path.is_dir() else file_sha256(path) if path.is_file() else "missing"


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


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


def stack_inputs(directory: Path, var_files: tuple[Path, ...], project: Project) -> StackInputs:
    lock = directory / LOCK_FILE
    return StackInputs(
        config=tree_sha256(directory),
        lock_file=file_sha256(lock) if lock.exists() else None,
        var_files={_shown(v, project.root): file_sha256(v) for v in var_files},
        overrides=overrides_sha256(directory),
        external=external_inputs(directory, project),
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
        if now.inputs.overrides != record.inputs.overrides:
            problems.append(f"{where}: its override files (*_override.tf) changed since the plan")
        for path in sorted(set(record.inputs.external) | set(now.inputs.external)):
            if record.inputs.external.get(path) != now.inputs.external.get(path):
                problems.append(f"{where}: {path} (read from outside the stack's folder) changed since the plan")
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


def lint_verdict(findings: list) -> dict[str, Any]:
    """One migration's lint, for migrations.json and the summary: refused (an unannotated destructive change),
    not parsed (reported, never refused), allowed by annotation, or clean; with each finding."""
    if any(f.refused for f in findings):
        verdict = "refused"
    elif any(f.rule == "syntax" for f in findings):
        verdict = "not parsed"
    elif findings:
        verdict = "allowed by annotation"
    else:
        verdict = "clean"
    return {"verdict": verdict, "findings": [str(f) for f in findings]}


SUMMARY_LIMIT = 60000  # GitHub takes 65536 characters in a comment; leave room for a marker of our own


def summary_text(markdown: str, limit: int = SUMMARY_LIMIT) -> str:
    """summary.md: every secret masked first (a cut must never leave half a secret behind), then capped."""
    from toolkit.secrets import mask

    return cap_markdown(mask(markdown), limit)


def cap_markdown(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a line end with a visible marker. A cut inside a code fence (or an
    open <details>) closes it, so what follows the cut renders as text, not as part of a diff."""
    if len(text) <= limit:
        return text
    marker = f"\n_(summary cut at {{}} of {len(text)} characters; the bundle's JSON files hold everything)_\n"
    lines = text[:limit].split("\n")[:-1]
    while lines:
        fenced, details = False, 0
        for line in lines:
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced:
                details += line.count("<details>") - line.count("</details>")
        kept = "\n".join(lines)
        closing = ("\n```" if fenced else "") + "\n</details>" * max(details, 0)
        result = kept + closing + "\n" + marker.format(len(kept))
        if len(result) <= limit:
            return result
        lines.pop()
    return marker.format(0)[:limit]


def destructive_not_allowed(planned: Mapping[str, PlannedChanges], allowed: set[str]) -> list[str]:
    """Deletes and replaces in the saved plans (read from the plans themselves: the manifest is not signed)
    whose addresses were not explicitly allowed."""
    found = []
    for stack, changes in planned.items():
        found += [f"{stack}: delete {a}" for a in changes.deletes if a not in allowed]
        found += [f"{stack}: replace {a}" for a in changes.replaces if a not in allowed]
    return found
