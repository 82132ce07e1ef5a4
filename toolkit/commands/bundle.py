"""`toolkit plan ENV --out DIR` and `toolkit apply ENV --plan DIR`: review once, apply exactly that."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from toolkit import bundle
from toolkit.commands.context import Context
from toolkit.commands.targets import database_target, history_table
from toolkit.config import Environment
from toolkit.database.connection import connect
from toolkit.errors import GuardRefused, ToolkitError
from toolkit.gitinfo import current_commit
from toolkit.migrations.apply import AppliedStep, current_plan, migrate
from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import discover
from toolkit.migrations.plan import read_sql
from toolkit.terraform.engine import engine_version
from toolkit.terraform.summary import PlanSummary, summarize, to_markdown


@dataclass(frozen=True)
class BundleResult:
    environment: str
    folder: str
    summaries: tuple[PlanSummary, ...]
    migrations: tuple[str, ...]  # scripts allowed to run at apply time

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes for s in self.summaries) or bool(self.migrations)


@dataclass(frozen=True)
class BundleApplyResult:
    environment: str
    applied_stacks: tuple[str, ...]
    unchanged_stacks: tuple[str, ...]
    migrations_applied: tuple[AppliedStep, ...]


def plan_bundle(ctx: Context, name: str, out: Path) -> BundleResult:
    """Plan every stack, record the inputs and state each plan depends on, and summarise it."""
    env = ctx.project.environment(name)
    migrations = discover(ctx.project.sql_dir)
    out.mkdir(parents=True, exist_ok=True)
    version = engine_version(ctx.engine)
    records, summaries = [], []
    infra_outputs = None
    for stack_name in ctx.project.stack_order:
        with ctx.reporter.step(f"terraform plan: {stack_name}"):
            stack = ctx.stack(env, stack_name)
            stack.init()
            stack.select_workspace(create=env.create_workspace)
            plan_file = out / f"{stack_name}.tfplan"
            changed = stack.plan(plan_file)
            summary = summarize(stack_name, stack.show_plan(plan_file))
            lineage, serial = stack.state_identity()
            if infra_outputs is None and lineage is not None:
                infra_outputs = stack.outputs()
            records.append(
                bundle.StackRecord(
                    stack=stack_name,
                    workspace=env.name,
                    plan_file=plan_file.name,
                    plan_sha256=bundle.file_sha256(plan_file),
                    has_changes=changed,
                    lineage=lineage,
                    serial=serial,
                    inputs=bundle.stack_inputs(stack.target.directory, env.var_files, ctx.project.root),
                    deletes=summary.deletes,
                    replaces=summary.replaces,
                )
            )
            summaries.append(summary)
    pending = _pending_scripts(ctx, env, migrations, infra_outputs)
    checksums = {m.script: flyway_checksum(read_sql(m)) for m in migrations.versioned if m.script in pending}
    (out / bundle.MIGRATIONS).write_text(json.dumps({"allowed": checksums}, indent=2, sort_keys=True) + "\n")
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
    result = BundleResult(env.name, str(out), tuple(summaries), tuple(sorted(checksums)))
    (out / "summary.json").write_text(json.dumps(asdict(result), indent=2, sort_keys=True, default=str) + "\n")
    markdown = to_markdown(env.name, summaries)
    if checksums:
        markdown += "\n**migrations to apply:** " + ", ".join(f"`{s}`" for s in sorted(checksums)) + "\n"
    (out / "summary.md").write_text(markdown)
    return result


def _pending_scripts(ctx: Context, env: Environment, migrations, infra_outputs) -> set[str]:
    """Pending migrations if the database can be asked now; else every versioned file (a new environment)."""
    if infra_outputs is None:
        return {m.script for m in migrations.versioned}
    try:
        conn = connect(database_target(ctx, env, infra_outputs), attempts=1)
    except ToolkitError as exc:
        ctx.reporter.note(f"database not reachable ({exc.message}); every migration file is allowed")
        return {m.script for m in migrations.versioned}
    try:
        return {p.file.script for p in current_plan(conn, migrations, history_table(ctx)).pending}
    finally:
        conn.close()


def apply_bundle(ctx: Context, name: str, folder: Path, allow_destroy: set[str] = frozenset()) -> BundleApplyResult:
    """Check every manifest field against what is true now, then apply the saved plans and migrations."""
    env = ctx.project.environment(name)
    manifest = bundle.read_manifest(folder)
    if manifest.environment != env.name:
        raise GuardRefused(f"the plan in {folder} was made for environment {manifest.environment!r}, not {env.name!r}")
    stacks, current = {}, {}
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
        stacks[record.stack] = stack
    problems = bundle.verify(manifest, env.name, engine_version(ctx.engine), current)
    if env.protected:
        problems += [
            f"{item} is not allowed in protected environment {env.name!r} (pass --allow-destroy ADDRESS to allow it)"
            for item in bundle.destructive_not_allowed(manifest, set(allow_destroy))
        ]
    migrations = discover(ctx.project.sql_dir)
    allowed = _allowed_migrations(folder)
    for file in migrations.versioned:
        if file.script in allowed and flyway_checksum(read_sql(file)) != allowed[file.script]:
            problems.append(f"migration {file.script} changed since the plan")
    if problems:
        raise GuardRefused(
            f"refusing to apply the plan in {folder} to {env.name!r}:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="make a new plan (toolkit plan ENV --out DIR), review it, and apply that",
        )
    applied, unchanged = [], []
    for record in manifest.stacks:
        if not record.has_changes:
            unchanged.append(record.stack)
            continue
        with ctx.reporter.step(f"terraform apply: {record.stack}"):
            # Terraform applies a copy: a failed apply must not leave the reviewed file half-used
            work = ctx.project.env_state_dir(env) / record.stack / "bundle.tfplan"
            work.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / record.plan_file, work)
            try:
                stacks[record.stack].apply(work)
            finally:
                work.unlink(missing_ok=True)
        applied.append(record.stack)
    with ctx.reporter.step("database"):
        steps = _migrate_allowed(ctx, env, migrations, allowed)
    return BundleApplyResult(env.name, tuple(applied), tuple(unchanged), steps)


def _allowed_migrations(folder: Path) -> dict[str, int]:
    path = folder / bundle.MIGRATIONS
    try:
        return {str(k): int(v) for k, v in json.loads(path.read_text())["allowed"].items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GuardRefused(f"{path} is not readable: {exc}") from None


def _migrate_allowed(ctx: Context, env: Environment, migrations, allowed: dict[str, int]) -> tuple[AppliedStep, ...]:
    target = database_target(ctx, env, start=True)
    conn = connect(target)
    try:
        pending = {p.file.script for p in current_plan(conn, migrations, history_table(ctx)).pending}
        unreviewed = sorted(pending - set(allowed))
        if unreviewed:
            raise GuardRefused(
                f"migrations pending in {env.name!r} were not in the reviewed plan: {', '.join(unreviewed)}",
                hint="make a new plan so they are reviewed",
            )
        result = migrate(
            conn,
            migrations,
            history_table(ctx),
            lock_timeout_seconds=ctx.project.migrations.lock_timeout_seconds,
            on_event=ctx.reporter.detail,
        )
    finally:
        conn.close()
    return result.applied
