"""Managing environments themselves: create, name, list, extend, reap, bootstrap the state store,
force-unlock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from toolkit.adapters.aws.clients import caller_account
from toolkit.adapters.aws.state_bucket import BootstrapResult, bootstrap_state_bucket
from toolkit.deploy.context import Context
from toolkit.deploy.protection import record_protected, where
from toolkit.deploy.records import ephemeral_store, extend_ephemeral
from toolkit.deploy.teardown import tear_down
from toolkit.errors import GuardRefused, ToolkitError, UsageError
from toolkit.project.model import Environment
from toolkit.project.names import name_from_branch
from toolkit.project.varfiles import read_var_values
from toolkit.state.lifecycle import EnvironmentRecord
from toolkit.support.log import get_logger
from toolkit.terraform.errored import saved_path
from toolkit.terraform.locks import lock_holder

log = get_logger(__name__)


@dataclass(frozen=True)
class CreateResult:
    environment: str
    created: tuple[str, ...]  # stacks whose workspace was created now
    existing: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentRow:
    name: str
    kind: str  # "named" or "ephemeral"
    protected: bool = False
    created_at: str | None = None
    age_seconds: int | None = None
    ttl_seconds: int | None = None
    expired: bool = False
    owner: str | None = None
    branch: str | None = None
    expires_at: str | None = None  # its TTL after its last use
    last_used_at: str | None = None
    last_used_by: str | None = None
    last_commit: str | None = None


@dataclass(frozen=True)
class ReapResult:
    dry_run: bool
    expired: tuple[str, ...]
    reaped: tuple[str, ...]
    failed: tuple[str, ...]  # "name: reason"
    skipped: tuple[str, ...] = ()  # "name: reason": expired, but in use (its state locked) or used since


@dataclass(frozen=True)
class ExtendResult:
    environment: str
    expires_at: str
    ttl_seconds: int
    last_used_by: str | None


@dataclass(frozen=True)
class UnprotectResult:
    environment: str
    removed: bool  # False: there was no record to remove
    record: str  # where it was kept


@dataclass(frozen=True)
class PushStateResult:
    environment: str
    stack: str
    pushed: str  # the file pushed, removed once the backend holds it


@dataclass(frozen=True)
class UnlockResult:
    environment: str
    stack: str
    released: str  # the lock ID


def env_create(ctx: Context, name: str) -> CreateResult:
    """Create the workspace of a named environment in every stack: the one deliberate way to add one."""
    env = ctx.project.environment(name)
    created, existing = [], []
    for stack_name in ctx.project.stack_order:
        stack = ctx.stack(env, stack_name)
        stack.init()
        (created if stack.select_workspace(create=True) else existing).append(stack_name)
    _record_protection(ctx, env, "env create")
    return CreateResult(env.name, tuple(created), tuple(existing))


def _record_protection(ctx: Context, env: Environment, verb: str) -> None:
    if record_protected(ctx.protection(env), env, verb):
        ctx.reporter.note(f"{env.name} is protected: recorded beside its state ({where(env)})")


def env_unprotect(ctx: Context, name: str, confirm: str | None) -> UnprotectResult:
    """Lift a protection recorded beside the state: the one deliberate step, refused unless toolkit.toml
    no longer protects the environment and `confirm` repeats its name."""
    env = ctx.project.environment(name)
    if confirm != env.name:
        raise UsageError(
            f"lifting the protection of {env.name!r} needs --confirm {env.name}",
            hint="on CI, run it only from a reviewed change that also removes `protected = true`",
        )
    if env.protected:
        raise GuardRefused(
            f"toolkit.toml still says {env.name!r} is protected: its protection is not lifted",
            hint="remove `protected = true` from toolkit.toml in a reviewed change first",
        )
    store = ctx.protection(env)
    record = store.get(env.name)
    if record is not None:
        store.delete(env.name)
    return UnprotectResult(env.name, record is not None, where(env))


def env_name(ctx: Context, branch: str) -> str:
    """The stable ephemeral environment name for a branch or pull request ref."""
    return name_from_branch(branch, ctx.project.ephemeral)


def env_list(ctx: Context, now: datetime | None = None) -> tuple[EnvironmentRow, ...]:
    """Named environments from toolkit.toml, then ephemeral ones from their records. When the records
    cannot be read (no AWS credentials, say), the named ones are still listed and a note says why."""
    now = now or datetime.now(UTC)
    rows = [EnvironmentRow(e.name, "named", e.protected) for e in ctx.project.environments.values()]
    try:
        store = ephemeral_store(ctx)
        records = store.all() if store else []
    except ToolkitError as exc:
        log.debug("ephemeral records not readable", exc_info=True)
        ctx.reporter.note(f"ephemeral environments not listed: {exc}")
        records = []
    for record in records:
        rows.append(
            EnvironmentRow(
                record.name,
                "ephemeral",
                False,
                record.created_at,
                record.age_seconds(now),
                record.ttl_seconds,
                record.expired(now),
                record.owner,
                record.branch,
                record.expires_at.isoformat(timespec="seconds"),
                record.last_used_at,
                record.last_used_by,
                record.last_commit,
            )
        )
    return tuple(rows)


def env_extend(ctx: Context, name: str, ttl_seconds: int | None = None) -> ExtendResult:
    """Keep an ephemeral environment for `ttl_seconds` from now (default: its class's TTL), and every use
    after this for as long."""
    env = ctx.project.environment(name)
    if not env.ephemeral:
        raise UsageError(f"{env.name!r} is a named environment: only ephemeral environments expire")
    ttl = ttl_seconds if ttl_seconds is not None else env.ttl_seconds or 0
    record = extend_ephemeral(ctx, env, ttl)
    if record is None:
        raise ToolkitError(
            f"{env.name!r} has no lifecycle record: it is not up (or was reaped)",
            hint=f"stand it up with toolkit env up {env.name}",
        )
    return ExtendResult(env.name, record.expires_at.isoformat(timespec="seconds"), ttl, record.last_used_by)


def env_reap(ctx: Context, *, dry_run: bool = False, now: datetime | None = None) -> ReapResult:
    """Tear down every ephemeral environment past its TTL (counted from its last use), except one a running
    job holds the state lock of; one failure does not stop the others."""
    now = now or datetime.now(UTC)
    store = ephemeral_store(ctx)
    expired, reaped, failed, skipped = [], [], [], []
    for record in (r for r in (store.all() if store else []) if r.expired(now)):
        stranger = _not_ephemeral(ctx, record.name)
        if stranger:  # never listed as expired: it is no ephemeral environment
            ctx.reporter.note(f"{record.name!r}: not reaped: {stranger}")
            skipped.append(f"{record.name!r}: {stranger}")
        else:
            expired.append(record)
    for record in expired:
        name = record.name
        try:
            env = ctx.project.environment(name)
            busy = _in_use(ctx, env, store.get(name) if store else None, now)
            if busy:
                ctx.reporter.note(f"{name}: expired, but {busy}: left for the next reap")
                skipped.append(f"{name}: {busy}")
                continue
            ctx.reporter.note(f"{name}: {_why_expired(record)}: {'would destroy' if dry_run else 'destroying'}")
            if not dry_run:
                tear_down(ctx, env)
                reaped.append(name)
        except ToolkitError as exc:
            ctx.reporter.note(f"{name}: not reaped: {exc.message}")
            failed.append(f"{name}: {exc.message}")
    return ReapResult(dry_run, tuple(r.name for r in expired), tuple(reaped), tuple(failed), tuple(skipped))


def _not_ephemeral(ctx: Context, name: str) -> str | None:
    """Why a record must never lead to a teardown: only an instance of the [ephemeral] class is reaped. A
    record named after a named environment (or matching no pattern) is someone's mistake or an attack."""
    project = ctx.project
    if name in project.environments:
        return (
            f"{name!r} is a named environment in toolkit.toml; only ephemeral environments are reaped "
            "(a lifecycle record under toolkit/environments/ in the state bucket names it: remove that record)"
        )
    if project.ephemeral is None or not project.ephemeral.matches(name):
        patterns = ", ".join(project.ephemeral.patterns) if project.ephemeral else "none"
        return f"the name matches no [ephemeral] pattern ({patterns}): its record is ignored"
    return None


def _in_use(ctx: Context, env: Environment, fresh: EnvironmentRecord | None, now: datetime) -> str | None:
    """Why an expired environment must not be destroyed now: used since it was listed, or a state lock held
    by a running job (asked right before tearing it down)."""
    if fresh is not None and not fresh.expired(now):
        return f"it was used since ({fresh.last_use or 'used'} by {fresh.last_used_by}): it expires {fresh.expires_at}"
    for stack_name in ctx.project.stack_order:
        holder = lock_holder(ctx.target(env, stack_name), ctx.endpoint)
        if holder:
            return f"the state of stack {stack_name!r} is locked ({holder}): a job is using it"
    return None


def _why_expired(record: EnvironmentRecord) -> str:
    used = f"last used {record.last_used_at} by {record.last_used_by}" if record.last_used_at else "never used since"
    return f"expired at {record.expires_at.isoformat(timespec='seconds')} (created {record.created_at}, {used})"


def bootstrap(ctx: Context, name: str) -> BootstrapResult:
    """Create the environment's S3 state bucket idempotently and harden it; prove it locks."""
    env = ctx.project.environment(name)
    if env.backend.type != "s3":
        raise UsageError(
            f"environment {env.name!r} uses the {env.backend.type} backend: there is no bucket to bootstrap"
        )
    settings = env.backend.settings
    _refuse_another_account(ctx, env, settings["region"], settings.get("endpoint"))
    result = bootstrap_state_bucket(
        settings["bucket"],
        settings["region"],
        endpoint=ctx.endpoint or settings.get("endpoint"),
        kms_key_id=settings.get("kms_key_id"),
    )
    _record_protection(ctx, env, "bootstrap")
    return result


def _refuse_another_account(ctx: Context, env: Environment, region: str, endpoint: str | None) -> None:
    """Each environment's state bucket lives in its own account: bootstrapping it with another account's
    credentials would put prod's state in dev's account. The account guard of the stacks, applied here:
    the credentials' account must be one of the environment's `allowed_account_ids` (its var files).
    Emulator mode (--endpoint) answers with the emulator's account, so it is not checked there."""
    allowed: list = []
    for path in env.var_files:
        allowed = read_var_values(path, ctx.project.root).get("allowed_account_ids", allowed)
    if not allowed or ctx.endpoint:
        return
    account = caller_account(region=region, endpoint=endpoint)
    if account not in {str(a) for a in allowed}:
        raise GuardRefused(
            f"the credentials are for AWS account {account}, but {env.name!r} lives in "
            f"{', '.join(map(str, allowed))} (allowed_account_ids in its var files): its state bucket is not touched",
            hint=f"assume {env.name}'s own role (one role and one state bucket per account), then run it again",
        )


def env_force_unlock(ctx: Context, name: str, stack_name: str | None, lock_id: str) -> UnlockResult:
    """Release the lock `lock_id` on one stack's state (default: the project's first stack)."""
    env = ctx.project.environment(name)
    stack_name = stack_name or ctx.project.stack_order[0]
    if stack_name not in env.stacks:
        raise UsageError(f"unknown stack {stack_name!r} (stacks: {', '.join(env.stacks)})")
    stack = ctx.stack(env, stack_name, recovering=True)  # a run that could not save its state left it
    stack.init()
    stack.select_workspace(create=False)
    stack.force_unlock(lock_id)
    return UnlockResult(env.name, stack_name, lock_id)


def env_push_state(ctx: Context, name: str, stack_name: str | None, file: Path | None = None) -> PushStateResult:
    """Push the state Terraform could not save (`errored.tfstate`, kept by toolkit per environment and
    stack, or `file`) to the environment's backend, then remove it. Terraform's own `state push` refuses a
    state of another lineage or an older serial, so the wrong environment is never overwritten."""
    env = ctx.project.environment(name)
    stack_name = stack_name or ctx.project.stack_order[0]
    if stack_name not in env.stacks:
        raise UsageError(f"unknown stack {stack_name!r} (stacks: {', '.join(env.stacks)})")
    stack = ctx.stack(env, stack_name, recovering=True)
    path = (file or saved_path(stack.target)).absolute()
    if not path.is_file():
        raise UsageError(
            f"{path} does not exist: there is no state of {stack.target.label} waiting to be pushed",
            hint="pass the file Terraform wrote with --file PATH" if file is None else None,
        )
    stack.init()
    stack.select_workspace(create=False)
    stack.push_state(path)
    path.unlink()
    return PushStateResult(env.name, stack_name, str(path))
