"""`toolkit plan ENV --out DIR`: every stack planned and saved, with the migrations allowed to run, the
rendered pipelines and the summaries a reviewer reads (the format: `toolkit/bundle/manifest.py`)."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from toolkit.adapters.git import current_commit
from toolkit.bundle import manifest as bundle
from toolkit.bundle.phases import deferral, unsettled_outputs
from toolkit.bundle.summary import SUMMARY_JSON, SUMMARY_MD, lint_verdict, summary_markdown
from toolkit.deploy.context import Context
from toolkit.deploy.deployment import pipeline_changes
from toolkit.deploy.emulator import prepare_environment
from toolkit.deploy.injected import injected_folders, upstream_reads
from toolkit.deploy.migrating import database_plan, lint_policy
from toolkit.deploy.records import record_ephemeral
from toolkit.deploy.rendering import render_pipelines, rendered_hashes
from toolkit.deploy.stacks import open_stack, renders_pipelines
from toolkit.deploy.validation import validate_databases
from toolkit.errors import ConfigError, GuardRefused, UsageError
from toolkit.migrations.engine import lint_sources
from toolkit.migrations.source import LoadedMigrations
from toolkit.project.model import Environment
from toolkit.support.hashing import file_sha256
from toolkit.support.masking import mask
from toolkit.terraform.engine import engine_version
from toolkit.terraform.outputs import Output
from toolkit.terraform.summary import PlanSummary, summarize


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


def plan_bundle(ctx: Context, name: str, out: Path, *, branch: str | None = None) -> BundleResult:
    """Plan every stack, record the inputs and state each plan depends on, and summarise it."""
    env = prepare_environment(ctx, ctx.project.environment(name))  # emulator mode only
    final = _new_bundle_folder(out)
    # What env up checks first: migrations and their lint, pipelines for this environment (a sensitive
    # value is refused there, so none is ever rendered into the bundle), var files against the stacks.
    loaded = validate_databases(ctx, env)
    record_ephemeral(ctx, env, branch, use="plan")  # written, or renewed: the TTL counts from now
    # Written beside the destination and moved there when complete: a failed plan leaves no half bundle.
    out = _staging_folder(final)
    try:
        result = _BundleWriter(ctx, env, out).write(loaded, final)
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


class _BundleWriter:
    """One bundle being written: the stacks planned in order, then the migrations, pipelines, manifest
    and summaries."""

    def __init__(self, ctx: Context, env: Environment, out: Path) -> None:
        self.ctx, self.env, self.out = ctx, env, out
        self.records: list[bundle.StackRecord] = []
        self.summaries: list[PlanSummary] = []
        self.outputs_by_stack: dict[str, dict[str, Output]] = {}
        self.upstream: dict[str, Output] = {}
        self.pipelines: dict[str, str] = {}
        self.changes: dict[str, dict] = {}
        self.deferred: dict[str, str] = {}
        self.unsettled: dict[str, str] = {}  # outputs of earlier stacks that are not final yet -> why

    def write(self, loaded: dict[str, LoadedMigrations], final: Path) -> BundleResult:
        ctx, env = self.ctx, self.env
        version = engine_version(ctx.engine)
        for stack_name in ctx.project.stack_order:
            # A later stack planned now would get an earlier stack's outputs as they are before this bundle
            # is applied: if the earlier plan changes one it reads, it is left for a second plan (two phases).
            reason = deferral(stack_name, upstream_reads(ctx, env, stack_name), self.unsettled, self.deferred)
            if reason is not None:
                self.deferred[stack_name] = reason
                ctx.reporter.note(f"{stack_name}: planned after this bundle is applied, since {reason}")
                continue
            with ctx.reporter.step(f"terraform plan: {stack_name}"):
                self._plan(stack_name)
        allowed, lint = _reviewed_migrations(
            ctx, env, loaded, self.outputs_by_stack.get(ctx.project.stack_order[0], {})
        )
        migrations = {
            "allowed": allowed,
            "files": bundle.all_migration_files(env.name, loaded),
            "files_sha256": bundle.all_migrations_sha256(env.name, loaded),
            "lint": lint,
        }
        _write_json(self.out / bundle.MIGRATIONS, migrations)
        _write_json(self.out / bundle.PIPELINES, {"rendered": self.pipelines, "changes": self.changes})
        manifest = bundle.Manifest(
            format=bundle.FORMAT,
            environment=env.name,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            git_commit=current_commit(ctx.project.root),
            engine=ctx.engine.kind,
            engine_version=version,
            stacks=tuple(self.records),
            deferred=self.deferred,
        )
        bundle.write_manifest(self.out, manifest)
        result = BundleResult(
            env.name, str(final), tuple(self.summaries), tuple(sorted(allowed)), self.pipelines, self.deferred, lint
        )
        summary_json = json.dumps(asdict(result), indent=2, sort_keys=True, default=str)
        (self.out / SUMMARY_JSON).write_text(mask(summary_json) + "\n")
        markdown = summary_markdown(
            env.name, self.summaries, deferred=self.deferred, lint=lint, pipeline_changes=self.changes
        )
        (self.out / SUMMARY_MD).write_text(markdown)
        return result

    def _plan(self, stack_name: str) -> None:
        ctx, env = self.ctx, self.env
        reads_rendered = None
        if renders_pipelines(env, stack_name):
            # Rendered apart from the environment's folder: planning must not change what `env up` compares
            # with. The saved plan remembers this folder, so apply restores it from the bundle.
            reads_rendered = ctx.paths.bundle_rendered(env.name)
            shutil.rmtree(reads_rendered, ignore_errors=True)
            rendered = render_pipelines(ctx, env, self.outputs_by_stack, reads_rendered)
            shutil.copytree(reads_rendered, self.out / bundle.RENDERED)
            self.pipelines = rendered_hashes(self.out / bundle.RENDERED)
            self.changes = pipeline_changes(ctx, env, rendered)
        opened = open_stack(ctx, env, stack_name, self.upstream, create=env.create_workspace, rendered=reads_rendered)
        with opened as (stack, _):
            saved = self.out / f"{stack_name}.tfplan"
            stack.plan(saved)
            shown = stack.show_plan(saved)
            summary = summarize(stack_name, shown)
            workspace = stack.selected_workspace()
            lineage, serial = stack.state_identity()
            outputs = stack.outputs() if lineage is not None else {}
        self.records.append(
            bundle.StackRecord(
                stack=stack_name,
                workspace=workspace,
                plan_file=saved.name,
                plan_sha256=file_sha256(saved),
                has_changes=summary.has_changes,
                lineage=lineage,
                serial=serial,
                inputs=bundle.stack_inputs(
                    env.stack_dir(stack_name), ctx.var_files(env), ctx.project.root, injected_folders(ctx)
                ),
                deletes=summary.deletes,
                replaces=summary.replaces,
            )
        )
        self.summaries.append(summary)
        self.unsettled.update(unsettled_outputs(stack_name, shown, lineage is not None))
        self.outputs_by_stack[stack_name] = outputs
        self.upstream.update(outputs)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


def _reviewed_migrations(
    ctx: Context, env: Environment, loaded: dict[str, LoadedMigrations], infra: dict[str, Output]
) -> tuple[dict, dict]:
    """What the plan allows to run, each database in order (file → SHA-256 of its bytes), and each allowed
    file's lint verdict; files named `<database>/<script>` in a project of several databases."""
    several = len(loaded) > 1
    allowed: dict[str, str] = {}
    lint: dict[str, object] = {}
    for database in ctx.project.databases:
        scoped, files = ctx.for_database(database), loaded[database.name]
        now = _allowed_now(scoped, env, files, infra)
        policy = lint_policy(scoped, files)
        allowed.update({bundle.qualified(database.name, script, several): sha for script, sha in now.items()})
        lint.update(
            {
                bundle.qualified(database.name, m.script, several): lint_verdict(lint_sources([m], policy=policy))
                for m in (*files.versioned, *files.repeatable)
                if m.script in now
            }
        )
    return allowed, lint


def _allowed_now(ctx: Context, env: Environment, loaded: LoadedMigrations, infra: dict[str, Output]) -> dict:
    """Pending migrations (script → SHA-256 of its bytes); every file when the database cannot be asked yet."""
    plan = database_plan(ctx, env, infra, loaded) if infra else None
    if plan is None:
        return {m.script: m.sha256 for m in loaded.versioned if m.runs_in(env.name)}
    if plan.problems:
        where = f" (database {ctx.current_database.name})" if len(ctx.project.databases) > 1 else ""
        problems = "\n".join(f"  - {p}" for p in plan.problems)
        raise GuardRefused(f"migrations cannot run in {env.name!r}{where}:\n" + problems)
    return {p.file.script: p.source.sha256 for p in plan.pending}
