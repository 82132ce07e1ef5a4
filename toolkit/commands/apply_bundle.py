"""`toolkit apply ENV --plan DIR`: check everything a bundle recorded against now, then apply exactly it.

Nothing is applied unless every check passes: the manifest against the stacks' state, code, var files
and engine (`bundle/verify.py`), the saved plans read back themselves (the code, workspace, state and
values each was made from: `deploy/plan_checks.py`; the summary derived from it again against the
reviewed one: `bundle/summary.py`), the migrations and the rendered pipelines. Then each stack's
reviewed plan is applied (from a private copy), then the migrations the plan allowed, then the
deployment record.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from toolkit.adapters.git import current_commit
from toolkit.bundle import manifest as bundle
from toolkit.bundle.summary import reviewed_summary_problems
from toolkit.bundle.verify import (
    CurrentStack,
    PlannedChanges,
    commit_warning,
    destructive_not_allowed,
    migration_problems,
    verify,
)
from toolkit.deploy.context import Context
from toolkit.deploy.deployment import record_deployed
from toolkit.deploy.injected import injected_folders
from toolkit.deploy.migrating import MigrationRun, database_plan, migrate_databases
from toolkit.deploy.plan_checks import saved_plan_problems
from toolkit.deploy.progress import Progress, ResourceWatcher
from toolkit.deploy.protection import record_protected
from toolkit.deploy.records import record_ephemeral
from toolkit.deploy.rendering import environment_values, hashes_rendered_now, rendered_hashes
from toolkit.deploy.stacks import renders_pipelines, stack_outputs
from toolkit.deploy.validation import load_databases
from toolkit.errors import GuardRefused, UsageError
from toolkit.migrations.results import AppliedStep
from toolkit.migrations.source import LoadedMigrations
from toolkit.project.model import Environment
from toolkit.support.hashing import file_sha256
from toolkit.terraform.engine import engine_version
from toolkit.terraform.outputs import Output
from toolkit.terraform.summary import PlanSummary, summarize


@dataclass(frozen=True)
class BundleApplyResult:
    environment: str
    applied_stacks: tuple[str, ...]
    unchanged_stacks: tuple[str, ...]
    migrations_applied: tuple[AppliedStep, ...]
    deferred: dict[str, str] = field(default_factory=dict)  # stacks left for the next plan, with why
    warnings: tuple[str, ...] = ()


def apply_bundle(
    ctx: Context,
    name: str,
    folder: Path,
    allow_destroy: set[str] = frozenset(),
    *,
    max_age_seconds: int | None = None,
) -> BundleApplyResult:
    """Check every manifest field against what is true now, then apply the saved plans and migrations;
    with `max_age_seconds`, a plan made longer ago than that is refused (an approval that took too long)."""
    env = ctx.project.environment(name)
    folder = folder.absolute()  # Terraform runs in the stack's folder: a relative path would miss
    if not folder.is_dir():
        state = "is a file, not a plan bundle folder" if folder.exists() else "does not exist"
        raise UsageError(f"--plan {folder} {state}", hint=f"pass the folder made by toolkit plan {name} --out DIR")
    try:
        checked = _check(ctx, env, folder, allow_destroy, max_age_seconds)
        return _apply(ctx, env, folder, checked)
    finally:  # a saved plan holds sensitive values: no copy outlives the run
        for stack_name in env.stacks:
            _work_path(ctx, env, stack_name).unlink(missing_ok=True)


def _work_path(ctx: Context, env: Environment, stack_name: str) -> Path:
    return ctx.paths.saved_plan(env.name, stack_name, "bundle")


def _work_copy(ctx: Context, env: Environment, stack_name: str, source: Path) -> Path | None:
    if not source.is_file():
        return None
    work = _work_path(ctx, env, stack_name)
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, work)
    return work


@dataclass
class _Checked:
    """What the checks established, for the apply that follows them."""

    manifest: bundle.Manifest
    current: dict[str, CurrentStack]
    loaded: dict[str, LoadedMigrations]  # each database's files, in order
    allowed: dict[str, str]  # the reviewed files, `<database>/<script>` in a project of several
    renders: bool
    warnings: tuple[str, ...]


def _check(
    ctx: Context, env: Environment, folder: Path, allow_destroy: set[str], max_age_seconds: int | None
) -> _Checked:
    """Every reason not to apply this bundle now, all at once; nothing has changed when it refuses."""
    manifest = bundle.read_manifest(folder)
    if manifest.environment != env.name:
        raise GuardRefused(f"the plan in {folder} was made for environment {manifest.environment!r}, not {env.name!r}")
    too_old = bundle.too_old(manifest, max_age_seconds, datetime.now(UTC))
    if too_old:
        raise GuardRefused(f"the plan in {folder} {too_old}", hint="plan again, review it, and approve that in time")
    current, infra_now, problems, summaries = _current_stacks(ctx, env, folder, manifest)
    problems = (
        verify(
            manifest,
            environment=env.name,
            engine=ctx.engine.kind,
            engine_version=engine_version(ctx.engine),
            stacks=tuple(s for s in ctx.project.stack_order if s in env.stacks),
            current=current,
        )
        + problems
    )
    destroys: list[str] = []
    if env.protected:
        planned = {name: now.planned for name, now in current.items() if now.planned is not None}
        destroys = destructive_not_allowed(planned, set(allow_destroy))
        problems += [
            f"{item} is not allowed in protected environment {env.name!r} (pass --allow-destroy ADDRESS to allow it)"
            for item in destroys
        ]
    loaded = load_databases(ctx)
    allowed = _read_json(folder / bundle.MIGRATIONS, "allowed")
    planned_files = _read_json(folder / bundle.MIGRATIONS, "files")
    changed = migration_problems(planned_files, allowed, bundle.all_migration_files(env.name, loaded))
    planned_set = _read_json(folder / bundle.MIGRATIONS, "files_sha256", str)
    if not changed and planned_set != bundle.all_migrations_sha256(env.name, loaded):
        changed.append("the migrations that run, in their order, differ from the plan's (files_sha256)")
    problems += changed
    problems += _pending_not_reviewed(ctx, env, loaded, allowed, infra_now)
    renders = any(r.stack in env.stacks and renders_pipelines(env, r.stack) for r in manifest.stacks)
    if renders:
        recorded = _read_json(folder / bundle.PIPELINES, "rendered")
        problems += _bundle_rendered_problems(folder / bundle.RENDERED, recorded)
        problems += _pipeline_changes(ctx, env, recorded)
    if len(summaries) == len(manifest.stacks):  # every saved plan was read: what it does, as reviewed?
        problems += reviewed_summary_problems(
            folder,
            env.name,
            summaries,
            deferred=manifest.deferred,
            migrations=_read_json(folder / bundle.MIGRATIONS, "allowed"),
            lint=_read_json(folder / bundle.MIGRATIONS, "lint"),
            pipelines=_read_json(folder / bundle.PIPELINES, "rendered") if renders else {},
            pipeline_changes=_read_json(folder / bundle.PIPELINES, "changes") if renders else {},
        )
    warning = commit_warning(manifest.git_commit, current_commit(ctx.project.root))
    if warning:
        ctx.reporter.note(f"warning: {warning}")
    if problems:
        raise GuardRefused(
            f"refusing to apply the plan in {folder} to {env.name!r}:\n" + "\n".join(f"  - {p}" for p in problems),
            hint=_refusal_hint(env.name, folder, destroys, len(problems)),
        )
    return _Checked(manifest, current, loaded, allowed, renders, (warning,) if warning else ())


def _refusal_hint(env: str, folder: Path, destroys: list[str], problems: int) -> str:
    """Deletes and replaces that were reviewed are allowed by address; anything else needs a new plan."""
    allow = " ".join(f"--allow-destroy {item.split(' ', 2)[-1]}" for item in destroys)
    again = f"if each delete and replace was reviewed, allow them: toolkit apply {env} --plan {folder} {allow}"
    if destroys and len(destroys) == problems:
        return again
    new_plan = f"make a new plan (toolkit plan {env} --out DIR), review it, and apply that"
    return f"{new_plan}; {again}" if destroys else new_plan


def _current_stacks(
    ctx: Context, env: Environment, folder: Path, manifest: bundle.Manifest
) -> tuple[dict[str, CurrentStack], dict[str, Output], list[str], list[PlanSummary]]:
    """What is true now for each stack the bundle planned; the first stack's outputs before anything is
    applied; problems found reading the saved plans themselves; and what each saved plan does, derived
    from it again."""
    current: dict[str, CurrentStack] = {}
    infra_now: dict[str, Output] = {}
    upstream: dict[str, Output] = {}  # earlier stacks' outputs now, as the later stacks were planned with
    problems: list[str] = []
    summaries: list[PlanSummary] = []
    for record in manifest.stacks:
        if record.stack not in env.stacks:
            continue  # verify names it
        stack = ctx.stack(env, record.stack)
        stack.init()
        stack.select_workspace(create=False)
        lineage, serial = stack.state_identity()
        workspace = stack.selected_workspace()
        outputs = stack.outputs() if lineage is not None else {}
        if record.stack == ctx.project.stack_order[0]:
            infra_now = outputs
        # What is checked is what is applied: a private copy (Terraform applies a copy, so the reviewed file
        # stays as it was), hashed and read here, applied below, removed at the end.
        plan_path = _work_copy(ctx, env, record.stack, folder / record.plan_file)
        plan_sha256 = file_sha256(plan_path) if plan_path is not None else None
        planned = None
        if plan_sha256 == record.plan_sha256:  # only a plan file that is the reviewed one is worth reading
            shown = stack.show_plan(plan_path)
            summary = summarize(record.stack, shown)
            summaries.append(summary)
            planned = PlannedChanges(summary.has_changes, summary.deletes, summary.replaces)
            if renders_pipelines(env, record.stack):
                problems += _reads_rendered_from(ctx, env, record.stack, shown)
            problems += saved_plan_problems(
                ctx,
                env,
                record.stack,
                plan_path,
                shown,
                workspace=workspace,
                lineage=lineage,
                serial=serial,
                upstream=upstream,
            )
        upstream.update(outputs)
        current[record.stack] = CurrentStack(
            workspace=workspace,
            lineage=lineage,
            serial=serial,
            inputs=bundle.stack_inputs(
                stack.target.directory, ctx.var_files(env), ctx.project.root, injected_folders(ctx)
            ),
            plan_sha256=plan_sha256,
            planned=planned,
        )
    return current, infra_now, problems, summaries


def _apply(ctx: Context, env: Environment, folder: Path, checked: _Checked) -> BundleApplyResult:
    """Apply exactly what was checked: the rendered pipelines put back where the saved plans read them,
    each stack's reviewed plan, the reviewed migrations after the first stack, the deployment record."""
    manifest = checked.manifest
    progress = Progress()
    with progress.step(ctx, "lifecycle record"):
        record_ephemeral(ctx, env, None, use="apply")  # renewed; written again if it went since
        record_protected(ctx.protection(env), env, "apply")  # protection outlives any toolkit.toml edit
    if checked.renders:  # where the saved plan reads them (checked above), exactly as reviewed
        _copy_folder(folder / bundle.RENDERED, ctx.paths.bundle_rendered(env.name))
    applied, unchanged = [], []
    migrated: dict[str, MigrationRun] = {}
    for index, record in enumerate(manifest.stacks):
        if checked.current[record.stack].planned.has_changes:
            watcher = ResourceWatcher(record.stack)
            with progress.step(ctx, f"terraform apply: {record.stack}", partial=watcher.partial):
                stack = ctx.stack(env, record.stack)
                watcher.watch(stack)
                stack.apply(_work_path(ctx, env, record.stack))
            applied.append(record.stack)
            progress.changed.append(f"stack {record.stack} applied ({watcher.counts() or 'outputs only'})")
        else:
            unchanged.append(record.stack)
        if index == 0:
            with progress.step(ctx, f"outputs: {record.stack}"):
                outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
            reviewed = _reviewed_by_database(ctx, checked.allowed)
            migrated = migrate_databases(ctx, env, outputs, checked.loaded, progress, reviewed=reviewed)
    if checked.renders:  # the environment's rendered folder now holds what it runs, as after `env up`
        _copy_folder(folder / bundle.RENDERED, ctx.paths.rendered(env.name))
    if manifest.deferred:
        ctx.reporter.note(f"deferred to the next plan: {', '.join(manifest.deferred)}")
    else:  # only a complete deploy is what the environment runs (promote-check compares it)
        with progress.step(ctx, "deployment record"):
            record_deployed(ctx, env, checked.loaded, migrated)
    steps = tuple(step for run in migrated.values() for step in run.result.applied)
    return BundleApplyResult(
        env.name, tuple(applied), tuple(unchanged), steps, dict(manifest.deferred), checked.warnings
    )


def _copy_folder(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def _read_json(path: Path, key: str, kind: type = dict):
    try:
        value = json.loads(path.read_text())[key]
        if not isinstance(value, kind):
            raise TypeError(f"{key} is not a JSON {'object' if kind is dict else 'string'}")
        return kind(value)
    except FileNotFoundError:
        raise GuardRefused(f"{path} is missing: not a complete plan bundle") from None
    except OSError as exc:
        raise GuardRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise GuardRefused(f"{path} is not readable: {exc}") from None


def _bundle_rendered_problems(rendered: Path, recorded: dict[str, str]) -> list[str]:
    """The bundle's rendered pipelines against the hashes in its pipelines.json."""
    found = rendered_hashes(rendered) if rendered.is_dir() else {}
    return [
        f"pipeline {key} in the bundle ({bundle.RENDERED}/{key}.json) is missing or was modified"
        if key in recorded
        else f"pipeline {key} in the bundle ({bundle.RENDERED}/{key}.json) is not in its pipelines.json"
        for key in sorted(set(found) | set(recorded))
        if found.get(key) != recorded.get(key)
    ]


def _reads_rendered_from(ctx: Context, env: Environment, stack_name: str, plan: dict) -> list[str]:
    """A saved plan reads the rendered pipelines again, from the folder it was planned with: it must be the
    one apply restores them to (the same project path on the machine that applies)."""
    planned = ((plan.get("variables") or {}).get("rendered_pipelines_dir") or {}).get("value")
    expected = str(ctx.paths.bundle_rendered(env.name))
    if planned == expected:
        return []
    return [
        f"stack {stack_name!r}: the saved plan reads the rendered pipelines from {planned}, "
        f"but this checkout would provide them at {expected}: apply from the same project path the plan was made in"
    ]


def _pipeline_changes(ctx: Context, env: Environment, recorded: dict[str, str]) -> list[str]:
    """Render now (into a scratch folder) and name every pipeline whose rendered file differs."""
    values, _ = environment_values(ctx, env)
    now = hashes_rendered_now(ctx, values)
    return [
        f"pipeline {key} changed since the plan"
        for key in sorted(set(now) | set(recorded))
        if now.get(key) != recorded.get(key)
    ]


def _reviewed_by_database(ctx: Context, allowed: dict) -> dict[str, set[str]]:
    """The reviewed files of each database (a bundle names them `<database>/<script>` when there are several)."""
    if len(ctx.project.databases) == 1:
        return {ctx.project.databases[0].name: set(allowed)}
    return {
        database.name: {s.removeprefix(f"{database.name}/") for s in allowed if s.startswith(f"{database.name}/")}
        for database in ctx.project.databases
    }


def _pending_not_reviewed(
    ctx: Context, env: Environment, loaded: dict[str, LoadedMigrations], allowed: dict, infra: dict[str, Output]
) -> list[str]:
    """Asked before anything is applied (when the databases can be reached): what would run now must all
    have been reviewed, and nothing may block the migrations once the infrastructure has changed."""
    several = len(loaded) > 1
    found: list[str] = []
    for database in ctx.project.databases:
        plan = database_plan(ctx.for_database(database), env, infra, loaded[database.name]) if infra else None
        if plan is None:
            continue
        pending = {bundle.qualified(database.name, p.file.script, several) for p in plan.pending}
        found += [
            f"migration {script} is pending in {env.name!r} but was not in the reviewed plan"
            for script in sorted(pending - set(allowed))
        ]
        where = f" in {database.name}" if several else ""
        found += [f"migrations cannot run{where}: {problem}" for problem in plan.problems]
    return found
