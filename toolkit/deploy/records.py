"""The records toolkit keeps beside an environment's state: an ephemeral environment's lifecycle record
(created when, by whom; last used when, by whom, at which commit; its expiry, counted from that last use)
and the deployment record of what the environment runs."""

from __future__ import annotations

from datetime import UTC, datetime

from toolkit.adapters.git import current_commit
from toolkit.deploy.context import Context
from toolkit.project.model import Backend, Environment
from toolkit.state import deployments, lifecycle
from toolkit.state.deployments import Deployment
from toolkit.state.lifecycle import EnvironmentRecord, new_record, renewed
from toolkit.state.store import RecordStore, raw_store


def _store(ctx: Context, backend: Backend, kind: str):
    return raw_store(backend, kind, ctx.paths.records(kind), ctx.endpoint)


def ephemeral_store(ctx: Context) -> RecordStore[EnvironmentRecord] | None:
    """Lifecycle records of the project's ephemeral environments (None without an [ephemeral] class)."""
    eph = ctx.project.ephemeral
    if eph is None:
        return None
    raw = _store(ctx, eph.template.backend, lifecycle.KIND)
    return RecordStore(raw, EnvironmentRecord, lambda r: r.name, "an environment record")


def record_ephemeral(
    ctx: Context, env: Environment, branch: str | None, *, use: str = "env up", create: bool = True
) -> bool:
    """An ephemeral environment gets its lifecycle record (and so its expiry, injected as `expires_at`)
    before its workspaces are created, so `env reap` finds whatever a run leaves; True if written now.
    An existing record is renewed instead: every use (`use`: env up, plan, apply) counts the TTL again from
    now, recorded with who and which commit. `create=False` only renews (a read-only plan creates nothing)."""
    store = ephemeral_store(ctx) if env.ephemeral else None
    if store is None:
        return False
    now = datetime.now(UTC)
    record = store.get(env.name)
    if record is None and not create:
        return False
    commit = current_commit(ctx.project.root)
    if record is None:
        store.put(new_record(env.name, env.ttl_seconds or 0, branch=branch, now=now, commit=commit, use=use))
        return True
    store.put(renewed(record, now=now, commit=commit, use=use, branch=branch))
    return False


def extend_ephemeral(ctx: Context, env: Environment, ttl_seconds: int) -> EnvironmentRecord | None:
    """Renew an ephemeral environment's record with a TTL of its own from now; None without a record."""
    store = ephemeral_store(ctx) if env.ephemeral else None
    record = store.get(env.name) if store else None
    if store is None or record is None:
        return None
    now = datetime.now(UTC)
    extended = renewed(
        record, now=now, commit=current_commit(ctx.project.root), use="env extend", ttl_seconds=ttl_seconds
    )
    store.put(extended)
    return extended


def forget_ephemeral(ctx: Context, env: Environment) -> None:
    store = ephemeral_store(ctx) if env.ephemeral else None
    if store is not None:
        store.delete(env.name)


def lifecycle_record(ctx: Context, env: Environment) -> EnvironmentRecord | None:
    store = ephemeral_store(ctx) if env.ephemeral else None
    return store.get(env.name) if store else None


def expires_at(ctx: Context, env: Environment) -> datetime | None:
    """An ephemeral environment's expiry: its TTL after its last use (its lifecycle record)."""
    record = lifecycle_record(ctx, env)
    return record.expires_at if record else None


def tag_expiry(ctx: Context, env: Environment) -> datetime | None:
    """The expiry handed to Terraform as `expires_at` (tags): renewed only when it is due (see lifecycle)."""
    record = lifecycle_record(ctx, env)
    return record.tag_expiry if record else None


def deployment_store(ctx: Context, env: Environment) -> RecordStore[Deployment]:
    raw = _store(ctx, env.backend, deployments.KIND)
    return RecordStore(raw, Deployment, lambda d: d.environment, f"the deployment record of {env.name!r}")
