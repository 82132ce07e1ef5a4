"""`toolkit plan ENV --out DIR`: every stack planned and saved, with the migrations allowed to run, the
rendered pipelines and the summaries a reviewer reads (see commands/bundle.py)."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from toolkit import bundle
from toolkit.commands.bundle import (
    PIPELINES,
    RENDERED,
    BundleResult,
    migration_files,
    record_ephemeral,
    rendered_hashes,
)
from toolkit.commands.context import Context
from toolkit.commands.stack_inputs import bundle_rendered_dir, upstream_reads
from toolkit.commands.steps import (
    database_plan,
    open_stack,
    render_pipelines,
    renders_pipelines,
    validate_environment,
)
from toolkit.config import Environment
from toolkit.errors import ConfigError, GuardRefused, UsageError
from toolkit.gitinfo import current_commit
from toolkit.migrations.lint import lint_sources
from toolkit.migrations.source import LoadedMigrations
from toolkit.secrets import mask
from toolkit.terraform.engine import engine_version
from toolkit.terraform.outputs import Output
from toolkit.terraform.summary import summarize, to_markdown


def plan_bundle(ctx: Context, name: str, out: Path, *, branch: str | None = None) -> BundleResult:
    """Plan every stack, record the inputs and state each plan depends on, and summarise it."""
    env = ctx.project.environment(name)
    final = _new_bundle_folder(out)
    # What env up checks first: migrations and their lint, pipelines for this environment (a sensitive
    # value is refused there, so none is ever rendered into the bundle), var files against the stacks.
    loaded = validate_environment(ctx, env)
    record_ephemeral(ctx, env, branch)
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
    migrations = {"allowed": allowed, "files": migration_files(env, loaded), "lint": lint}
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
