"""One text renderer per result type: what a person reads on stdout. JSON is the result itself
(`console.to_jsonable`), so only text is written here, once per type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only the types: rendering imports no verb
    from toolkit.adapters.aws.state_bucket import BootstrapResult
    from toolkit.commands.apply_bundle import BundleApplyResult
    from toolkit.commands.db import BaselineResult, LintResult, RepairResult, StatusResult
    from toolkit.commands.doctor import DoctorReport
    from toolkit.commands.drift import DriftReport
    from toolkit.commands.emulator import EmulatorStopResult
    from toolkit.commands.env import EnvUpResult
    from toolkit.commands.environments import (
        CreateResult,
        EnvironmentRow,
        ExtendResult,
        PushStateResult,
        ReapResult,
        UnlockResult,
        UnprotectResult,
    )
    from toolkit.commands.init import InitResult
    from toolkit.commands.pipelines import FingerprintRow, GraphResult
    from toolkit.commands.plan import PlanResult
    from toolkit.commands.plan_bundle import BundleResult
    from toolkit.commands.promote import PromoteCheckResult
    from toolkit.commands.schema import SchemaList
    from toolkit.commands.stacks import StacksCheckResult
    from toolkit.commands.status import EnvStatus
    from toolkit.commands.values import ValuesReport
    from toolkit.deploy.database_drift import DriftResult
    from toolkit.deploy.teardown import EnvDownResult
    from toolkit.migrations.results import MigrateResult
    from toolkit.pipelines.rendering import RenderResult
    from toolkit.pipelines.validate import ValidationReport


MIGRATIONS_UNKNOWN = "  migrations  unknown (database not reachable)"


# --- init ----------------------------------------------------------------------------------------


def init(result: InitResult) -> str:
    source = f" from {result.from_flyway}" if result.from_flyway else ""
    lines = [f"initialised {result.root}{source}:"]
    lines += [f"  wrote  {path}" for path in result.written]
    lines.append(f"  migrations  {result.sql}/ (files stay as they are)" if result.from_flyway else "")
    lines.append(f"  local database port {result.port} (chosen for this checkout; tfvars/local.tfvars.json)")
    lines += [f"  note: {note}" for note in result.notes]
    lines.append("next: toolkit env up local   (or `include toolkit.mk` in your Makefile, then make env)")
    return "\n".join(line for line in lines if line)


def schema_list(result: SchemaList) -> str:
    width = max(len(entry.name) for entry in result.schemas)
    lines = [f"{entry.name:<{width}}  {entry.id}  ({entry.describes})" for entry in result.schemas]
    lines.append('print one with: toolkit schema NAME > NAME.schema.json (README, "Editors")')
    return "\n".join(lines)


# --- env -----------------------------------------------------------------------------------------


def env_up(result: EnvUpResult) -> str:
    lines = [
        f"environment {result.environment}: {'updated' if result.changed else 'nothing to do'}",
        f"  engine      {result.engine}",
    ]
    for stack in result.stacks:
        state = "applied" if stack.changed else "no changes"
        created = ", workspace created" if stack.workspace_created else ""
        lines.append(
            f"  stack       {stack.stack} (workspace {stack.workspace}): {state}{created}, "
            f"{stack.resources} resource(s)"
        )
    if len(result.databases) > 1:
        for db in result.databases:
            lines.append(f"  migrations  {db.name}: {len(db.applied)} applied now, {db.already_applied} before")
    else:
        lines.append(
            f"  migrations  {len(result.migrations_applied)} applied now, {result.migrations_already_applied} before"
        )
    if result.pipelines_rendered:
        changed = len(result.pipelines_changed)
        lines.append(f"  pipelines   {len(result.pipelines_rendered)} rendered, {changed} changed")
    if len(result.databases) > 1:
        lines += [f"  database    {db.name}: {db.url}" for db in result.databases]
    else:
        lines.append(f"  database    {result.database_url}")
    return "\n".join(lines)


def env_down(result: EnvDownResult) -> str:
    destroyed = ", ".join(s.stack for s in result.stacks if s.changed) or "nothing (already empty)"
    return f"environment {result.environment}: destroyed {destroyed}" + (
        "; local database removed" if result.database_removed else ""
    )


def emulator_stop(result: EmulatorStopResult) -> str:
    removed = (
        f"; removed the stand-in PostgreSQL of {', '.join(result.stand_ins_removed)}"
        if result.stand_ins_removed
        else ""
    )
    if not result.stopped:
        return f"no AWS emulator of this project was running{removed}"
    return f"stopped the AWS emulator at {result.endpoint or '(not answering)'}{removed}; {result.note}"


def env_create(result: CreateResult) -> str:
    return (
        f"environment {result.environment}: workspaces created in {', '.join(result.created) or 'none (all existed)'}"
    )


def env_name(document: dict[str, str]) -> str:
    return document["environment"]


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours // 24}d{hours % 24}h" if hours >= 24 else f"{hours}h{rest // 60:02d}m"


def env_list(rows: tuple[EnvironmentRow, ...]) -> str:
    lines = [f"{'NAME':<26}{'KIND':<11}{'AGE':>9}{'TTL':>9}  STATUS"]
    for row in rows:
        status = "protected" if row.protected else ("EXPIRED" if row.expired else "")
        if row.kind == "ephemeral" and row.owner:
            status = f"{status} owner={row.owner}" + (f" branch={row.branch}" if row.branch else "")
            if row.last_used_by:
                status += f" used-by={row.last_used_by}"
            if row.expires_at:
                status += f" expires={row.expires_at}"
        age, ttl = _duration(row.age_seconds), _duration(row.ttl_seconds)
        lines.append(f"{row.name:<26}{row.kind:<11}{age:>9}{ttl:>9}  {status.strip()}")
    return "\n".join(lines)


def env_reap(result: ReapResult) -> str:
    skipped = [f"skipped: {reason}" for reason in result.skipped]
    if result.dry_run:
        busy = {reason.split(":", 1)[0] for reason in result.skipped}
        due = [name for name in result.expired if name not in busy]
        return "\n".join(["would destroy: " + (", ".join(due) or "nothing (none expired)"), *skipped])
    lines = ["destroyed: " + (", ".join(result.reaped) or "nothing (none expired)"), *skipped]
    return "\n".join(lines + [f"failed: {failure}" for failure in result.failed])


def env_extend(result: ExtendResult) -> str:
    return (
        f"{result.environment} now expires at {result.expires_at} (TTL {_duration(result.ttl_seconds)} from each use)"
    )


def env_push_state(result: PushStateResult) -> str:
    return f"pushed {result.pushed} to the state of stack {result.stack} of {result.environment}, and removed it"


def env_unprotect(result: UnprotectResult) -> str:
    if not result.removed:
        return f"{result.environment} had no protection record ({result.record}): nothing to lift"
    return f"lifted the protection of {result.environment}: removed {result.record}"


def env_force_unlock(result: UnlockResult) -> str:
    return f"released lock {result.released} on stack {result.stack} of {result.environment}"


def env_status(result: EnvStatus) -> str:
    kind = "protected" if result.protected else ("ephemeral" if result.ephemeral else "named")
    lines = [f"environment {result.environment} ({kind})"]
    for stack in result.stacks:
        state = (
            f"workspace {stack.workspace}, serial {stack.serial}, {stack.resources} resource(s)"
            if stack.workspace_exists
            else "not created"
        )
        lines.append(f"  stack       {stack.stack}: {state}")
    if result.deployed_at:
        lines.append(f"  deployed    {result.deployed_at} (commit {result.deployed_commit or 'unknown'})")
    else:
        lines.append("  deployed    never completely (no deployment record)")
    if result.migrations_applied is None and not any(s.workspace_exists for s in result.stacks):
        lines.append(f"  migrations  none applied: the environment is not up (toolkit env up {result.environment})")
    elif result.migrations_applied is None:
        lines.append(MIGRATIONS_UNKNOWN)
    else:
        pending = result.migrations_pending
        lines.append(f"  migrations  {result.migrations_applied} applied, {len(pending)} pending")
        lines += [f"    pending   {script}" for script in pending]
    lines += [f"  problem     {problem}" for problem in result.migration_problems]
    lines += [f"  pipeline    {pipeline.name}: {pipeline.state}" for pipeline in result.pipelines]
    if result.expires_at:
        lines.append(f"  expires     {result.expires_at}")
    return "\n".join(lines)


# --- plans, bundles, promotion, drift ------------------------------------------------------------


def plan(result: PlanResult) -> str:
    lines = [f"environment {result.environment}: {'changes pending' if result.has_changes else 'no changes'}"]
    lines += [f"  stack       {s.stack}: {'changes' if s.changed else 'no changes'}" for s in result.stacks]
    if result.pending_migrations is None:
        lines.append(MIGRATIONS_UNKNOWN)
    else:
        lines.append(f"  migrations  {len(result.pending_migrations)} pending")
        lines += [f"    {script}" for script in result.pending_migrations]
    lines += [f"  problem     {problem}" for problem in result.migration_problems]
    return "\n".join(lines)


def plan_bundle(result: BundleResult) -> str:
    return (Path(result.folder) / "summary.md").read_text()


def apply_bundle(result: BundleApplyResult) -> str:
    return (
        f"environment {result.environment}: applied {', '.join(result.applied_stacks) or 'no stack'}"
        + (f" (unchanged: {', '.join(result.unchanged_stacks)})" if result.unchanged_stacks else "")
        + f"; {len(result.migrations_applied)} migration(s) applied"
        + "".join(
            f"\n  deferred {stack}: {reason}; plan again (toolkit plan {result.environment} --out DIR) and apply that"
            for stack, reason in result.deferred.items()
        )
        + "".join(f"\n  warning: {warning}" for warning in result.warnings)
    )


def promote_check(result: PromoteCheckResult) -> str:
    if result.ok:
        return (
            f"promote {result.source} -> {result.target}: ok, {result.target} would receive exactly what "
            f"{result.source} runs (deployed {result.source_deployed_at}, commit {result.source_commit})"
        )
    return f"promote {result.source} -> {result.target}: {len(result.differences)} difference(s)\n" + "\n".join(
        f"  - {d}" for d in result.differences
    )


def drift(report: DriftReport) -> str:
    lines = [f"environment {report.environment}: {'DRIFT' if report.drifted else 'no drift'}"]
    for stack in report.stacks:
        lines += [f"  stack {stack.stack}: {line} (changed outside Terraform)" for line in stack.drifted]
        lines += [f"  stack {stack.stack}: {line} (state differs from the code)" for line in stack.pending]
    several = len(report.databases) > 1
    for db in report.databases or ():
        label = f"database {db.name}" if several else "database"
        lines += [f"  {label}: {line}" for line in db.differences]
        lines += [f"  {label}: {line} (pending, not drift)" for line in db.pending]
        lines += [f"  warning: {label}: {line}" if several else f"  warning: {line}" for line in db.warnings]
    return "\n".join(lines)


# --- project-wide --------------------------------------------------------------------------------


def bootstrap(result: BootstrapResult) -> str:
    state = "created" if result.created else "exists"
    return f"state bucket {result.bucket} ({result.region}): {state}; ensured {', '.join(result.settings)}"


def values(report: ValuesReport) -> str:
    width = max((len(v.name) for v in report.values), default=4)
    lines = [f"{v.name:<{width}}  {v.shown()}    ({v.source})" for v in report.values]
    lines += [f"(stack {s} has no state yet: its outputs are not known)" for s in report.missing_stacks]
    return "\n".join(lines)


def doctor(report: DoctorReport) -> str:
    return "\n".join(f"{'ok ' if c.ok else '-- '} {c.name:<20} {c.detail}" for c in report.checks)


def stacks_check(result: StacksCheckResult) -> str:
    if result.ok:
        return (
            f"stacks check: ok ({len(result.directories)} stack directories, {len(result.environments)} environments)"
        )
    lines = [f"{f} [{f.rule}]" for f in result.findings]
    return "\n".join([*lines, f"stacks check: {len(result.findings)} finding(s)"])


# --- db ------------------------------------------------------------------------------------------


def each_database(render: Callable[[Any], str]) -> Callable[[Any], str]:
    """`render` for a db verb's result, which for several databases is an EachDatabase: each one's text
    under its name."""

    def text(result: Any) -> str:
        if type(result).__name__ != "EachDatabase":
            return render(result)
        from textwrap import indent

        parts = [f"database {name}:\n" + indent(render(inner), "  ") for name, inner in result.results.items()]
        return "\n".join(parts)

    return text


def db_status(result: StatusResult) -> str:
    lines = [f"environment {result.environment}: at version {result.current or '(none)'}, {result.pending} pending"]
    lines.append(f"  {'VERSION':<10} {'STATE':<18} SCRIPT")
    shown = [(f, f.state + (" (partial)" if f.partial else "")) for f in result.files]
    lines += [f"  {f.version or 'R':<10} {state:<18} {f.script}" for f, state in shown]
    lines += [f"  problem: {p}" for p in result.problems]
    return "\n".join(lines)


def db_validate(result: StatusResult) -> str:
    return f"environment {result.environment}: migrations valid, {result.pending} pending"


def db_migrate(result: MigrateResult) -> str:
    if result.dry_run:
        parts = [f"-- {len(result.would_apply)} migration(s) would run; nothing was changed"]
        for step in result.would_apply:
            mode = "" if step.transactional else ", outside a transaction"
            parts.append(f"\n-- {step.script} ({step.reason}{mode})\n{step.sql}")
        return "\n".join(parts)
    lines = [f"{len(result.applied)} applied now, {result.already_applied} before"]
    return "\n".join(lines + [f"  {s.script} ({s.milliseconds} ms)" for s in result.applied])


def db_repair(result: RepairResult) -> str:
    if not result.removed_failed and not result.realigned:
        return f"environment {result.environment}: nothing to repair"
    lines = [f"environment {result.environment}: repaired"]
    lines += [f"  removed failed row: {s}" for s in result.removed_failed]
    lines += [f"  realigned checksum: {s}" for s in result.realigned]
    return "\n".join(lines)


def db_baseline(result: BaselineResult) -> str:
    return f"environment {result.environment}: baselined at version {result.version}"


def db_lint(result: LintResult) -> str:
    def note(finding) -> str:
        state = result.not_pending.get(finding.script)
        if state is not None:
            return f" ({state} in {result.environment}: history, not refused)"
        return " (allowed)" if finding.allowed else ""

    lines = [f"{f}{note(f)}" for f in result.findings]
    if result.environment is not None and not result.reached:
        lines.append(f"note: the database of {result.environment} could not be asked; every file counts as pending")
    return "\n".join(lines) if lines else "no destructive changes found"


def db_drift(result: DriftResult) -> str:
    if result.differences:
        lines = [f"environment {result.environment}: {len(result.differences)} difference(s)"]
        lines += [f"  {d}" for d in result.differences]
    else:
        lines = [f"environment {result.environment}: no drift"]
    for changed in result.pending:
        lines.append(f"  pending, not drift: {changed}")
        lines += [f"    {d}" for d in changed.differences]
    lines += [f"  warning: {w}" for w in result.warnings]
    return "\n".join(lines)


# --- pipelines -----------------------------------------------------------------------------------


def pipelines_validate(report: ValidationReport) -> str:
    lines = [str(p) for p in report.problems]
    lines.append(
        f"{report.files} pipeline file(s), environments {', '.join(report.environments) or 'none'}: "
        f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    )
    return "\n".join(lines)


def pipelines_render(result: RenderResult, *, diff: bool = False) -> str:
    lines = [f"rendered {len(result.files)} pipeline(s) for {result.environment} into {result.out_dir}"]
    for item in result.files:
        lines.append(f"  {'changed  ' if item.changed else 'unchanged'} {item.file}  {item.fingerprint[:19]}")
        if diff:
            lines.extend(f"    {line}" for line in item.diff)
    return "\n".join(lines)


def pipelines_graph(result: GraphResult) -> str:
    return result.mermaid


def pipelines_fingerprint(rows: list[FingerprintRow]) -> str:
    return "\n".join(f"{row.fingerprint}  {row.kind:<14} {row.name}" for row in rows)
