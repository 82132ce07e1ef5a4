"""The records toolkit keeps beside an environment's state: an ephemeral environment's lifecycle record
(created when, by whom, its expiry) and the deployment record of what the environment runs."""

from __future__ import annotations

from datetime import datetime

from toolkit.deploy.context import Context
from toolkit.project.model import Backend, Environment
from toolkit.state import deployments, lifecycle
from toolkit.state.deployments import Deployment
from toolkit.state.lifecycle import EnvironmentRecord, new_record
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


def record_ephemeral(ctx: Context, env: Environment, branch: str | None) -> bool:
    """An ephemeral environment gets its lifecycle record (and so its expiry, injected as `expires_at`)
    before its workspaces are created, so `env reap` finds whatever a run leaves; True if written now."""
    store = ephemeral_store(ctx) if env.ephemeral else None
    if store is None or store.get(env.name) is not None:
        return False
    store.put(new_record(env.name, env.ttl_seconds or 0, branch=branch))
    return True


def forget_ephemeral(ctx: Context, env: Environment) -> None:
    store = ephemeral_store(ctx) if env.ephemeral else None
    if store is not None:
        store.delete(env.name)


def expires_at(ctx: Context, env: Environment) -> datetime | None:
    """An ephemeral environment's expiry, fixed when it was first stood up (its lifecycle record)."""
    store = ephemeral_store(ctx) if env.ephemeral else None
    record = store.get(env.name) if store else None
    return record.expires_at if record else None


def deployment_store(ctx: Context, env: Environment) -> RecordStore[Deployment]:
    raw = _store(ctx, env.backend, deployments.KIND)
    return RecordStore(raw, Deployment, lambda d: d.environment, f"the deployment record of {env.name!r}")
