"""Managing environments themselves: create, name, list, reap, bootstrap the state store, force-unlock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from toolkit.adapters.aws.state_bucket import BootstrapResult, bootstrap_state_bucket
from toolkit.deploy.context import Context
from toolkit.deploy.records import ephemeral_store
from toolkit.deploy.teardown import tear_down
from toolkit.errors import ToolkitError, UsageError
from toolkit.project.names import name_from_branch

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class ReapResult:
    dry_run: bool
    expired: tuple[str, ...]
    reaped: tuple[str, ...]
    failed: tuple[str, ...]  # "name: reason"


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
    return CreateResult(env.name, tuple(created), tuple(existing))


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
            )
        )
    return tuple(rows)


def env_reap(ctx: Context, *, dry_run: bool = False, now: datetime | None = None) -> ReapResult:
    """Tear down every ephemeral environment past its TTL; one failure does not stop the others."""
    now = now or datetime.now(UTC)
    store = ephemeral_store(ctx)
    expired = [r.name for r in (store.all() if store else []) if r.expired(now)]
    reaped, failed = [], []
    if not dry_run:
        for name in expired:
            try:
                tear_down(ctx, ctx.project.environment(name))
                reaped.append(name)
            except ToolkitError as exc:
                failed.append(f"{name}: {exc.message}")
    return ReapResult(dry_run, tuple(expired), tuple(reaped), tuple(failed))


def bootstrap(ctx: Context, name: str) -> BootstrapResult:
    """Create the environment's S3 state bucket idempotently and harden it; prove it locks."""
    env = ctx.project.environment(name)
    if env.backend.type != "s3":
        raise UsageError(
            f"environment {env.name!r} uses the {env.backend.type} backend: there is no bucket to bootstrap"
        )
    settings = env.backend.settings
    return bootstrap_state_bucket(
        settings["bucket"],
        settings["region"],
        endpoint=ctx.endpoint or settings.get("endpoint"),
        kms_key_id=settings.get("kms_key_id"),
    )


def env_force_unlock(ctx: Context, name: str, stack_name: str | None, lock_id: str) -> UnlockResult:
    """Release the lock `lock_id` on one stack's state (default: the project's first stack)."""
    env = ctx.project.environment(name)
    stack_name = stack_name or ctx.project.stack_order[0]
    if stack_name not in env.stacks:
        raise UsageError(f"unknown stack {stack_name!r} (stacks: {', '.join(env.stacks)})")
    stack = ctx.stack(env, stack_name)
    stack.init()
    stack.select_workspace(create=False)
    stack.force_unlock(lock_id)
    return UnlockResult(env.name, stack_name, lock_id)
