"""`toolkit apply ENV --plan DIR`: check everything a bundle recorded against now, then apply exactly it
(see commands/bundle.py)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from toolkit import bundle
from toolkit.commands.bundle import (
    PIPELINES,
    RENDERED,
    BundleApplyResult,
    migration_files,
    record_ephemeral,
    rendered_hashes,
)
from toolkit.commands.context import Context
from toolkit.commands.stack_inputs import bundle_rendered_dir, rendered_dir
from toolkit.commands.steps import (
    Progress,
    ResourceWatcher,
    applied_since,
    applied_versions,
    database_plan,
    history_rank,
    migrate_environment,
    record_deployed,
    renders_pipelines,
)
from toolkit.commands.targets import database_target
from toolkit.config import Environment
from toolkit.database.connection import connect
from toolkit.errors import GuardRefused, ToolkitError, UsageError
from toolkit.gitinfo import current_commit
from toolkit.migrations.apply import AppliedStep
from toolkit.migrations.discovery import discover
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.terraform.engine import engine_version
from toolkit.terraform.outputs import Output
from toolkit.terraform.summary import summarize


def apply_bundle(ctx: Context, name: str, folder: Path, allow_destroy: set[str] = frozenset()) -> BundleApplyResult:
    """Check every manifest field against what is true now, then apply the saved plans and migrations."""
    env = ctx.project.environment(name)
    folder = folder.absolute()  # Terraform runs in the stack's folder: a relative path would miss
    if not folder.is_dir():
        state = "is a file, not a plan bundle folder" if folder.exists() else "does not exist"
        raise UsageError(f"--plan {folder} {state}", hint="pass the folder made by toolkit plan ENV --out DIR")
    try:
        return _apply(ctx, env, folder, allow_destroy)
    finally:  # a saved plan holds sensitive values: no copy outlives the run
        for stack_name in env.stacks:
            _work_path(ctx, env, stack_name).unlink(missing_ok=True)


def _work_path(ctx: Context, env: Environment, stack_name: str) -> Path:
    return ctx.project.env_state_dir(env) / stack_name / "bundle.tfplan"


def _work_copy(ctx: Context, env: Environment, stack_name: str, source: Path) -> Path | None:
    if not source.is_file():
        return None
    work = _work_path(ctx, env, stack_name)
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, work)
    return work


def _apply(ctx: Context, env: Environment, folder: Path, allow_destroy: set[str]) -> BundleApplyResult:
    manifest = bundle.read_manifest(folder)
    if manifest.environment != env.name:
        raise GuardRefused(f"the plan in {folder} was made for environment {manifest.environment!r}, not {env.name!r}")
    current = {}
    problems: list[str] = []
    infra_now: dict[str, Output] = {}  # the first stack's outputs before anything is applied
    for record in manifest.stacks:
        if record.stack not in env.stacks:
            continue  # verify names it
        stack = ctx.stack(env, record.stack)
        stack.init()
        stack.select_workspace(create=False)
        lineage, serial = stack.state_identity()
        if record.stack == ctx.project.stack_order[0] and lineage is not None:
            infra_now = stack.outputs()
        # What is checked is what is applied: a private copy (Terraform applies a copy, so the reviewed file
        # stays as it was), hashed and read here, applied below, removed at the end.
        plan_path = _work_copy(ctx, env, record.stack, folder / record.plan_file)
        plan_sha256 = bundle.file_sha256(plan_path) if plan_path is not None else None
        planned = None
        if plan_sha256 == record.plan_sha256:  # only a plan file that is the reviewed one is worth reading
            shown = stack.show_plan(plan_path)
            summary = summarize(record.stack, shown)
            planned = bundle.PlannedChanges(summary.has_changes, summary.deletes, summary.replaces)
            if renders_pipelines(env, record.stack):
                problems += _reads_rendered_from(ctx, env, record.stack, shown)
        current[record.stack] = bundle.CurrentStack(
            workspace=stack.selected_workspace(),
            lineage=lineage,
            serial=serial,
            inputs=bundle.stack_inputs(stack.target.directory, env.var_files, ctx.project),
            plan_sha256=plan_sha256,
            planned=planned,
        )
    problems = (
        bundle.verify(
            manifest,
            environment=env.name,
            engine=ctx.engine.kind,
            engine_version=engine_version(ctx.engine),
            stacks=tuple(s for s in ctx.project.stack_order if s in env.stacks),
            current=current,
        )
        + problems
    )
    if env.protected:
        problems += [
            f"{item} is not allowed in protected environment {env.name!r} (pass --allow-destroy ADDRESS to allow it)"
            for item in bundle.destructive_not_allowed(
                {name: now.planned for name, now in current.items() if now.planned is not None}, set(allow_destroy)
            )
        ]
    loaded = load(discover(ctx.project.sql_dir))
    allowed = _read_json(folder / bundle.MIGRATIONS, "allowed")
    planned_files = _read_json(folder / bundle.MIGRATIONS, "files")
    problems += bundle.migration_problems(planned_files, allowed, migration_files(env, loaded))
    problems += _pending_not_reviewed(ctx, env, loaded, allowed, infra_now)
    renders = [r.stack for r in manifest.stacks if r.stack in env.stacks and renders_pipelines(env, r.stack)]
    if renders:
        recorded = _read_json(folder / PIPELINES, "rendered")
        problems += _bundle_rendered_problems(folder / RENDERED, recorded)
        problems += _pipeline_changes(ctx, env, recorded)
    warning = bundle.commit_warning(manifest.git_commit, current_commit(ctx.project.root))
    if warning:
        ctx.reporter.note(f"warning: {warning}")
    warnings = (warning,) if warning else ()
    if problems:
        raise GuardRefused(
            f"refusing to apply the plan in {folder} to {env.name!r}:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="make a new plan (toolkit plan ENV --out DIR), review it, and apply that",
        )
    progress = Progress()
    with progress.step(ctx, "lifecycle record"):
        record_ephemeral(ctx, env, None)  # kept from the plan; written again if it went since
    if renders:  # where the saved plan reads them (checked above), exactly as reviewed
        shutil.rmtree(bundle_rendered_dir(ctx, env), ignore_errors=True)
        shutil.copytree(folder / RENDERED, bundle_rendered_dir(ctx, env))
    applied, unchanged = [], []
    steps: tuple[AppliedStep, ...] = ()
    for index, record in enumerate(manifest.stacks):
        if current[record.stack].planned.has_changes:
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
            with progress.step(ctx, "database"):
                steps, versions = _migrate_allowed(ctx, env, loaded, allowed, progress)
    if renders:  # the environment's rendered folder now holds what it runs, as after `env up`
        shutil.rmtree(rendered_dir(ctx, env), ignore_errors=True)
        shutil.copytree(folder / RENDERED, rendered_dir(ctx, env))
    if manifest.deferred:
        ctx.reporter.note(f"deferred to the next plan: {', '.join(manifest.deferred)}")
    else:  # only a complete deploy is what the environment runs (promote-check compares it)
        with progress.step(ctx, "deployment record"):
            record_deployed(ctx, env, loaded, versions)
    return BundleApplyResult(env.name, tuple(applied), tuple(unchanged), steps, dict(manifest.deferred), warnings)


def _read_json(path: Path, key: str) -> dict:
    try:
        return dict(json.loads(path.read_text())[key])
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
        f"pipeline {key} in the bundle ({RENDERED}/{key}.json) is missing or was modified"
        if key in recorded
        else f"pipeline {key} in the bundle ({RENDERED}/{key}.json) is not in its pipelines.json"
        for key in sorted(set(found) | set(recorded))
        if found.get(key) != recorded.get(key)
    ]


def _reads_rendered_from(ctx: Context, env: Environment, stack_name: str, plan: dict) -> list[str]:
    """A saved plan reads the rendered pipelines again, from the folder it was planned with: it must be the
    one apply restores them to (the same project path on the machine that applies)."""
    planned = ((plan.get("variables") or {}).get("rendered_pipelines_dir") or {}).get("value")
    expected = str(bundle_rendered_dir(ctx, env))
    if planned == expected:
        return []
    return [
        f"stack {stack_name!r}: the saved plan reads the rendered pipelines from {planned}, "
        f"but this checkout would provide them at {expected}: apply from the same project path the plan was made in"
    ]


def _pipeline_changes(ctx: Context, env: Environment, recorded: dict[str, str]) -> list[str]:
    """Render now (into a scratch folder) and name every pipeline whose rendered file differs."""
    from toolkit.commands.values import environment_values
    from toolkit.pipelines import render

    values, _ = environment_values(ctx, env.name)
    with tempfile.TemporaryDirectory(prefix="toolkit-apply-") as scratch:
        render(ctx.project, values, Path(scratch))
        now = rendered_hashes(Path(scratch))
    return [
        f"pipeline {key} changed since the plan"
        for key in sorted(set(now) | set(recorded))
        if now.get(key) != recorded.get(key)
    ]


def _pending_not_reviewed(
    ctx: Context, env: Environment, loaded: LoadedMigrations, allowed: dict, infra: dict[str, Output]
) -> list[str]:
    """Asked before anything is applied (when the database can be reached): what would run now must all
    have been reviewed, and nothing may block the migrations once the infrastructure has changed."""
    plan = database_plan(ctx, env, infra, loaded) if infra else None
    if plan is None:
        return []
    unreviewed = sorted({p.file.script for p in plan.pending} - set(allowed))
    found = [f"migration {script} is pending in {env.name!r} but was not in the reviewed plan" for script in unreviewed]
    return found + [f"migrations cannot run: {problem}" for problem in plan.problems]


def _migrate_allowed(ctx: Context, env: Environment, loaded: LoadedMigrations, allowed: dict, progress: Progress):
    """Apply the pending migrations, all of which must have been in the reviewed plan."""
    from toolkit.commands.targets import stack_outputs

    outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
    target = database_target(ctx, env, outputs, start=True)
    plan = database_plan(ctx, env, outputs, loaded)
    unreviewed = sorted({p.file.script for p in plan.pending} - set(allowed)) if plan else []
    if unreviewed:
        raise GuardRefused(
            f"migrations pending in {env.name!r} were not in the reviewed plan: {', '.join(unreviewed)}",
            hint="make a new plan so they are reviewed",
        )
    conn = connect(target)
    try:
        before = history_rank(ctx, conn)
        try:
            steps = migrate_environment(ctx, env, conn, target, outputs, loaded).applied
        except ToolkitError:
            done = applied_since(ctx, target, before)  # each migration commits on its own
            if done:
                progress.changed.append(f"{len(done)} migration(s) applied: {', '.join(done)}")
            raise
        if steps:
            progress.changed.append(f"{len(steps)} migration(s) applied: {', '.join(s.script for s in steps)}")
        return steps, applied_versions(ctx, conn)
    finally:
        conn.close()
