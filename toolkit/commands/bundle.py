"""`toolkit plan ENV --out DIR` and `toolkit apply ENV --plan DIR`: review once, apply exactly that.

The bundle records, beside each stack's saved plan, the migrations allowed to run (with checksums) and
the rendered pipelines (with hashes); apply refuses if any of them changed since.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from toolkit import bundle
from toolkit.commands.context import Context
from toolkit.commands.steps import (
    applied_versions,
    database_plan,
    migrate_environment,
    open_stack,
    record_deployed,
    render_pipelines,
    renders_pipelines,
)
from toolkit.commands.targets import database_target
from toolkit.config import Environment
from toolkit.database.connection import connect
from toolkit.errors import GuardRefused
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


@dataclass(frozen=True)
class BundleResult:
    environment: str
    folder: str
    summaries: tuple[PlanSummary, ...]
    migrations: tuple[str, ...]  # scripts allowed to run at apply time
    pipelines: dict[str, str]  # rendered pipeline -> sha256

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes for s in self.summaries) or bool(self.migrations)


@dataclass(frozen=True)
class BundleApplyResult:
    environment: str
    applied_stacks: tuple[str, ...]
    unchanged_stacks: tuple[str, ...]
    migrations_applied: tuple[AppliedStep, ...]


def rendered_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder).with_suffix("")): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.json"))
    }


def plan_bundle(ctx: Context, name: str, out: Path) -> BundleResult:
    """Plan every stack, record the inputs and state each plan depends on, and summarise it."""
    env = ctx.project.environment(name)
    loaded = load(discover(ctx.project.sql_dir))
    out.mkdir(parents=True, exist_ok=True)
    version = engine_version(ctx.engine)
    records, summaries = [], []
    outputs_by_stack: dict[str, dict[str, Output]] = {}
    upstream: dict[str, Output] = {}
    pipelines: dict[str, str] = {}
    changes: dict[str, dict] = {}
    for stack_name in ctx.project.stack_order:
        with ctx.reporter.step(f"terraform plan: {stack_name}"):
            if renders_pipelines(env, stack_name):
                rendered = render_pipelines(ctx, env, outputs_by_stack)
                pipelines = rendered_hashes(rendered.out_dir)
                changes = _pipeline_changes_since_deployed(ctx, env, rendered)
            with open_stack(ctx, env, stack_name, upstream, create=env.create_workspace) as (stack, _):
                saved = out / f"{stack_name}.tfplan"
                changed = stack.plan(saved)
                summary = summarize(stack_name, stack.show_plan(saved))
                lineage, serial = stack.state_identity()
                outputs = stack.outputs() if lineage is not None else {}
            records.append(
                bundle.StackRecord(
                    stack=stack_name,
                    workspace=env.name,
                    plan_file=saved.name,
                    plan_sha256=bundle.file_sha256(saved),
                    has_changes=changed,
                    lineage=lineage,
                    serial=serial,
                    inputs=bundle.stack_inputs(env.stack_dir(stack_name), env.var_files, ctx.project.root),
                    deletes=summary.deletes,
                    replaces=summary.replaces,
                )
            )
            summaries.append(summary)
            outputs_by_stack[stack_name] = outputs
            upstream.update(outputs)
    allowed = _allowed_now(ctx, env, loaded, outputs_by_stack.get(ctx.project.stack_order[0], {}))
    (out / bundle.MIGRATIONS).write_text(json.dumps({"allowed": allowed}, indent=2, sort_keys=True) + "\n")
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
    )
    bundle.write_manifest(out, manifest)
    result = BundleResult(env.name, str(out), tuple(summaries), tuple(sorted(allowed)), pipelines)
    (out / "summary.json").write_text(json.dumps(asdict(result), indent=2, sort_keys=True, default=str) + "\n")
    markdown = to_markdown(env.name, summaries)
    if allowed:
        markdown += "\n**migrations to apply:** " + ", ".join(f"`{s}`" for s in sorted(allowed)) + "\n"
        findings = [f for f in lint_sources(m for m in loaded.versioned if m.script in allowed)]
        if findings:
            markdown += "\n**lint:**\n" + "".join(f"- {f}\n" for f in findings)
    markdown += _pipelines_markdown(changes)
    (out / "summary.md").write_text(mask(markdown[:60000]))
    return result


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
    manifest = bundle.read_manifest(folder)
    if manifest.environment != env.name:
        raise GuardRefused(f"the plan in {folder} was made for environment {manifest.environment!r}, not {env.name!r}")
    current = {}
    for record in manifest.stacks:
        if record.stack not in env.stacks:
            raise GuardRefused(f"the plan has stack {record.stack!r}, which environment {env.name!r} does not use")
        stack = ctx.stack(env, record.stack)
        stack.init()
        stack.select_workspace(create=False)
        lineage, serial = stack.state_identity()
        plan_path = folder / record.plan_file
        current[record.stack] = bundle.CurrentStack(
            workspace=env.name,
            lineage=lineage,
            serial=serial,
            inputs=bundle.stack_inputs(stack.target.directory, env.var_files, ctx.project.root),
            plan_sha256=bundle.file_sha256(plan_path) if plan_path.is_file() else None,
        )
    problems = bundle.verify(manifest, env.name, engine_version(ctx.engine), current)
    if env.protected:
        problems += [
            f"{item} is not allowed in protected environment {env.name!r} (pass --allow-destroy ADDRESS to allow it)"
            for item in bundle.destructive_not_allowed(manifest, set(allow_destroy))
        ]
    loaded = load(discover(ctx.project.sql_dir))
    allowed = _read_json(folder / bundle.MIGRATIONS, "allowed")
    for source in loaded.versioned:
        if source.script in allowed and source.checksum != allowed[source.script]:
            problems.append(f"migration {source.script} changed since the plan")
    problems += _pipeline_changes(ctx, env, _read_json(folder / PIPELINES, "rendered"))
    if problems:
        raise GuardRefused(
            f"refusing to apply the plan in {folder} to {env.name!r}:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="make a new plan (toolkit plan ENV --out DIR), review it, and apply that",
        )
    applied, unchanged = [], []
    steps: tuple[AppliedStep, ...] = ()
    for index, record in enumerate(manifest.stacks):
        if record.has_changes:
            with ctx.reporter.step(f"terraform apply: {record.stack}"):
                stack = ctx.stack(env, record.stack)
                # Terraform applies a copy, so the reviewed file stays as it was reviewed
                work = ctx.project.env_state_dir(env) / record.stack / "bundle.tfplan"
                work.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / record.plan_file, work)
                try:
                    stack.apply(work)
                finally:
                    work.unlink(missing_ok=True)
            applied.append(record.stack)
        else:
            unchanged.append(record.stack)
        if index == 0:
            with ctx.reporter.step("database"):
                steps, versions = _migrate_allowed(ctx, env, loaded, allowed)
    record_deployed(ctx, env, loaded, versions)
    return BundleApplyResult(env.name, tuple(applied), tuple(unchanged), steps)


def _read_json(path: Path, key: str) -> dict:
    try:
        return dict(json.loads(path.read_text())[key])
    except FileNotFoundError:
        raise GuardRefused(f"{path} is missing: not a complete plan bundle") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise GuardRefused(f"{path} is not readable: {exc}") from None


def _pipeline_changes(ctx: Context, env: Environment, recorded: dict[str, str]) -> list[str]:
    """Render now (into a scratch folder) and name every pipeline whose rendered file differs."""
    if not any(renders_pipelines(env, s) for s in ctx.project.stack_order):
        return []
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


def _migrate_allowed(ctx: Context, env: Environment, loaded: LoadedMigrations, allowed: dict):
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
        steps = migrate_environment(ctx, env, conn, target, outputs, loaded).applied
        return steps, applied_versions(ctx, conn)
    finally:
        conn.close()
