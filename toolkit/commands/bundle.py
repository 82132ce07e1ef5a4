"""`toolkit plan ENV --out DIR` and `toolkit apply ENV --plan DIR`: review once, apply exactly that.

The bundle records, beside each stack's saved plan, the migrations allowed to run (with checksums) and
the rendered pipelines themselves (`rendered/`, with their hashes in `pipelines.json`): a saved plan
re-reads the rendered files when it is applied, so apply puts the reviewed ones back where the plan read
them. Apply refuses, before changing anything, if any of them changed since.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from toolkit import bundle
from toolkit.commands.context import Context
from toolkit.commands.stack_inputs import bundle_rendered_dir, rendered_dir, upstream_reads
from toolkit.commands.steps import (
    Progress,
    ResourceWatcher,
    applied_since,
    applied_versions,
    database_plan,
    history_rank,
    migrate_environment,
    open_stack,
    record_deployed,
    render_pipelines,
    renders_pipelines,
    validate_environment,
)
from toolkit.commands.targets import database_target
from toolkit.config import Environment
from toolkit.database.connection import connect
from toolkit.errors import ConfigError, GuardRefused, ToolkitError, UsageError
from toolkit.gitinfo import current_commit
from toolkit.migrations.apply import AppliedStep
from toolkit.migrations.discovery import discover
from toolkit.migrations.lint import lint_sources
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.secrets import mask
from toolkit.terraform.engine import engine_version
from toolkit.terraform.outputs import Output
from toolkit.terraform.summary import PlanSummary, summarize, to_markdown

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


def plan_bundle(ctx: Context, name: str, out: Path, *, branch: str | None = None) -> BundleResult:
    """Plan every stack, record the inputs and state each plan depends on, and summarise it."""
    env = ctx.project.environment(name)
    final = _new_bundle_folder(out)
    # What env up checks first: migrations and their lint, pipelines for this environment (a sensitive
    # value is refused there, so none is ever rendered into the bundle), var files against the stacks.
    loaded = validate_environment(ctx, env)
    _record_ephemeral(ctx, env, branch)
    # Written beside the destination and moved there when complete: a failed plan leaves no half bundle.
    out = _staging_folder(final)
    try:
        result = _plan_into(ctx, env, loaded, out, final)
        if final.exists():
            final.rmdir()  # checked empty above
        out.rename(final)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return result


def _new_bundle_folder(out: Path) -> Path:
    """The bundle's folder as an absolute path (Terraform runs in the stack's folder), which must not exist
    yet or be empty: a bundle is never mixed with another's files."""
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: a file is in the way; a plan bundle is a new folder", hint="choose a new path")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out}: the folder is not empty; a plan bundle is written into a new or empty folder",
            hint="choose another path, or remove the old bundle first",
        )
    return out


def _staging_folder(final: Path) -> Path:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    except OSError as exc:
        raise ConfigError(
            f"cannot write the plan bundle there: {exc.strerror or exc}",
            path=str(final),
            hint="choose a folder this user can create and write",
        ) from None


def _plan_into(ctx: Context, env: Environment, loaded: LoadedMigrations, out: Path, final: Path) -> BundleResult:
    version = engine_version(ctx.engine)
    records, summaries = [], []
    outputs_by_stack: dict[str, dict[str, Output]] = {}
    upstream: dict[str, Output] = {}
    pipelines: dict[str, str] = {}
    changes: dict[str, dict] = {}
    deferred: dict[str, str] = {}
    unsettled: dict[str, str] = {}  # outputs of earlier stacks that are not final yet -> why
    for stack_name in ctx.project.stack_order:
        # A later stack planned now would get an earlier stack's outputs as they are before this bundle is
        # applied: if the earlier plan changes one it reads, it is left for a second plan (two phases).
        reason = bundle.deferral(stack_name, upstream_reads(ctx, env, stack_name), unsettled, deferred)
        if reason is not None:
            deferred[stack_name] = reason
            ctx.reporter.note(f"{stack_name}: planned after this bundle is applied, since {reason}")
            continue
        with ctx.reporter.step(f"terraform plan: {stack_name}"):
            reads_rendered = None
            if renders_pipelines(env, stack_name):
                # Rendered apart from the environment's folder: planning must not change what `env up`
                # compares with. The saved plan remembers this folder, so apply restores it from the bundle.
                reads_rendered = bundle_rendered_dir(ctx, env)
                shutil.rmtree(reads_rendered, ignore_errors=True)
                rendered = render_pipelines(ctx, env, outputs_by_stack, reads_rendered)
                shutil.copytree(reads_rendered, out / RENDERED)
                pipelines = rendered_hashes(out / RENDERED)
                changes = _pipeline_changes_since_deployed(ctx, env, rendered)
            opened = open_stack(ctx, env, stack_name, upstream, create=env.create_workspace, rendered=reads_rendered)
            with opened as (stack, _):
                saved = out / f"{stack_name}.tfplan"
                stack.plan(saved)
                shown = stack.show_plan(saved)
                summary = summarize(stack_name, shown)
                workspace = stack.selected_workspace()
                lineage, serial = stack.state_identity()
                outputs = stack.outputs() if lineage is not None else {}
            records.append(
                bundle.StackRecord(
                    stack=stack_name,
                    workspace=workspace,
                    plan_file=saved.name,
                    plan_sha256=bundle.file_sha256(saved),
                    has_changes=summary.has_changes,
                    lineage=lineage,
                    serial=serial,
                    inputs=bundle.stack_inputs(env.stack_dir(stack_name), env.var_files, ctx.project),
                    deletes=summary.deletes,
                    replaces=summary.replaces,
                )
            )
            summaries.append(summary)
            unsettled.update(bundle.unsettled_outputs(stack_name, shown, lineage is not None))
            outputs_by_stack[stack_name] = outputs
            upstream.update(outputs)
    allowed = _allowed_now(ctx, env, loaded, outputs_by_stack.get(ctx.project.stack_order[0], {}))
    lint = {
        m.script: bundle.lint_verdict(lint_sources([m], ctx.project.migrations.schema))
        for m in (*loaded.versioned, *loaded.repeatable)
        if m.script in allowed
    }
    migrations = {"allowed": allowed, "files": _migration_files(env, loaded), "lint": lint}
    (out / bundle.MIGRATIONS).write_text(json.dumps(migrations, indent=2, sort_keys=True) + "\n")
    (out / PIPELINES).write_text(
        json.dumps({"rendered": pipelines, "changes": changes}, indent=2, sort_keys=True) + "\n"
    )
    manifest = bundle.Manifest(
        format=bundle.FORMAT,
        environment=env.name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=current_commit(ctx.project.root),
        engine=ctx.engine.kind,
        engine_version=version,
        stacks=tuple(records),
        deferred=deferred,
    )
    bundle.write_manifest(out, manifest)
    result = BundleResult(env.name, str(final), tuple(summaries), tuple(sorted(allowed)), pipelines, deferred, lint)
    summary_json = json.dumps(asdict(result), indent=2, sort_keys=True, default=str)
    (out / "summary.json").write_text(mask(summary_json) + "\n")
    # The whole text is built uncut (to_markdown's own cap is lifted), then masked, then capped once.
    markdown = to_markdown(env.name, summaries, limit=1 << 62) + _deferred_markdown(deferred)
    if allowed:
        markdown += "\n**migrations to apply:** " + ", ".join(
            f"`{s}` (lint: {lint[s]['verdict']})" for s in sorted(allowed)
        )
        findings = [f for s in sorted(allowed) for f in lint[s]["findings"]]
        markdown += "\n" + ("\n**lint:**\n" + "".join(f"- {f}\n" for f in findings) if findings else "")
    markdown += _pipelines_markdown(changes)
    (out / "summary.md").write_text(bundle.summary_text(markdown))
    return result


def _record_ephemeral(ctx: Context, env: Environment, branch: str | None) -> None:
    """As env up does: an ephemeral environment gets its lifecycle record (and so its expiry, injected as
    `expires_at`) before its workspaces are created, so `env reap` finds whatever a plan or apply leaves."""
    if env.ephemeral:
        from toolkit.commands.environments import record_ephemeral

        record_ephemeral(ctx, env, branch)


def _deferred_markdown(deferred: dict[str, str]) -> str:
    if not deferred:
        return ""
    lines = ["", "**Phase 1 of 2.** Planned after this bundle is applied (plan again then, and review that too):", ""]
    lines += [f"- `{stack}`: {reason}" for stack, reason in deferred.items()]
    return "\n".join(lines) + "\n"


def _pipeline_changes_since_deployed(ctx: Context, env: Environment, rendered) -> dict[str, dict]:
    """Each pipeline that changes against what the environment runs: code or values, with a masked diff."""
    from toolkit.deployments import deployment_store
    from toolkit.pipelines.rendering import diff_lines

    previous = deployment_store(ctx.project, env, ctx.endpoint).get(env.name)
    before_text = previous.rendered if previous else {}
    before_code = previous.pipelines if previous else {}
    changes = {}
    for f in rendered.files:
        key = f.file.removesuffix(".json")
        text = (rendered.out_dir / f.file).read_text(encoding="utf-8")
        if before_text.get(key) == text:
            continue
        state = (
            "new"
            if key not in before_text
            else "code changed"
            if before_code.get(key) != f.fingerprint
            else "values changed"
        )
        changes[key] = {
            "state": state,
            "fingerprint_before": before_code.get(key),
            "fingerprint_after": f.fingerprint,
            "diff": list(diff_lines(before_text.get(key, ""), text, f.file)),
        }
    for key in sorted(set(before_text) - {f.file.removesuffix(".json") for f in rendered.files}):
        changes[key] = {
            "state": "removed",
            "fingerprint_before": before_code.get(key),
            "fingerprint_after": None,
            "diff": [],
        }
    return changes


def _pipelines_markdown(changes: dict[str, dict]) -> str:
    if not changes:
        return ""
    lines = ["", "**pipelines:**", ""]
    for key, change in sorted(changes.items()):
        lines.append(f"- `{key}`: {change['state']}")
    for key, change in sorted(changes.items()):
        if change["diff"]:
            lines += [
                "",
                f"<details><summary>{key}</summary>",
                "",
                "```diff",
                *change["diff"][:200],
                "```",
                "",
                "</details>",
            ]
    return "\n".join(lines) + "\n"


def _allowed_now(ctx: Context, env: Environment, loaded: LoadedMigrations, infra: dict[str, Output]) -> dict:
    """Pending migrations (script → checksum); every file when the database cannot be asked yet."""
    plan = database_plan(ctx, env, infra, loaded) if infra else None
    if plan is None:
        return {m.script: m.checksum for m in loaded.versioned if m.runs_in(env.name)}
    if plan.problems:
        raise GuardRefused(f"migrations cannot run in {env.name!r}:\n" + "\n".join(f"  - {p}" for p in plan.problems))
    return {p.file.script: p.source.checksum for p in plan.pending}


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
    problems += bundle.migration_problems(planned_files, allowed, _migration_files(env, loaded))
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
        _record_ephemeral(ctx, env, None)  # kept from the plan; written again if it went since
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


def _migration_files(env: Environment, loaded: LoadedMigrations) -> dict[str, int]:
    """Every migration file that runs in the environment, with its checksum (what the plan saw)."""
    return {m.script: m.checksum for m in (*loaded.versioned, *loaded.repeatable) if m.runs_in(env.name)}


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
