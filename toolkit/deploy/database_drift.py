"""Schema drift: the live schema against what the applied migrations build on an empty scratch server.
`db drift` reports it alone, `drift` beside the stacks' refresh-only plans."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.deploy.context import Context
from toolkit.deploy.database import DatabaseSession, history_table, open_session
from toolkit.errors import MigrationFailed
from toolkit.migrations import mysql_drift
from toolkit.migrations.drift import (
    ChangedFile,
    Difference,
    applied_subset,
    compare,
    defined_by,
    expected_schema,
    set_aside,
    snapshot,
    version_warning,
)
from toolkit.migrations.engine import current_plan
from toolkit.migrations.placeholders import fill
from toolkit.migrations.plan import plan_migrations
from toolkit.migrations.source import LoadedMigrations
from toolkit.migrations.sqlsplit import SplitError
from toolkit.project.model import Environment


@dataclass(frozen=True)
class DriftResult:
    environment: str
    differences: tuple[Difference, ...]  # drift: changes made outside the migrations
    warnings: tuple[str, ...] = ()  # e.g. the scratch server is another major version than the database
    pending: tuple[ChangedFile, ...] = ()  # applied files changed since: their differences are not drift


def database_drift(ctx: Context, env: Environment, loaded: LoadedMigrations) -> DriftResult:
    """Differences between the live schema and what the applied migrations build on an empty database."""
    with open_session(ctx, env, loaded) as s:
        history = history_table(ctx, s.target)
        with s.conn.cursor() as cur:
            applied = history.applied(cur)
        if s.target.engine == "mysql":
            return _mysql_drift(ctx, s, history, applied)
        changed = _changed_since_applied(s, applied, s.plan_options(ctx))
        actual = snapshot(s.conn, history)
        with ctx.reporter.step("scratch PostgreSQL: apply the applied migrations"):
            try:
                expected, scratch_version = expected_schema(
                    applied_subset(s.migrations, applied),
                    history,
                    username=s.target.username,
                    environment=s.env.name,
                    placeholders=s.placeholders,
                    workdir=scratch_folder(ctx),
                )
            except MigrationFailed as exc:
                raise MigrationFailed(
                    f"the applied migrations do not rebuild on an empty database: {exc.message}",
                    hint="drift needs the migrations to build the schema from nothing; fix that file "
                    "(or baseline the environment) first",
                ) from None
    warning = version_warning(s.conn.server_version, scratch_version)
    drift, pending = set_aside(compare(expected, actual), {script: defined for script, _, defined in changed})
    files = tuple(ChangedFile(script, reason, tuple(pending[script])) for script, reason, _ in changed)
    return DriftResult(env.name, tuple(drift), (warning,) if warning else (), files)


def _mysql_drift(ctx: Context, s: DatabaseSession, history, applied) -> DriftResult:
    """MySQL: the scratch database is on the same server (migrations/mysql_drift.py)."""
    actual = mysql_drift.snapshot(s.conn, history.schema, history.table)
    with ctx.reporter.step("scratch MySQL database: apply the applied migrations"):
        try:
            expected = mysql_drift.expected_schema(
                s.conn,
                applied_subset(s.migrations, applied),
                history,
                environment=s.env.name,
                placeholders=s.placeholders,
            )
        except MigrationFailed as exc:
            raise MigrationFailed(
                f"the applied migrations do not rebuild in an empty database: {exc.message}",
                hint="drift needs the migrations to build the schema from nothing; fix that file "
                "(or baseline the environment) first",
            ) from None
    plan = current_plan(s.conn, s.migrations, history, **s.plan_options(ctx))
    changed = tuple(
        ChangedFile(f.script, "changed after it was applied (checksum mismatch; see `toolkit db validate`)", ())
        for f in plan.states
        if f.state == "checksum mismatch"
    )
    return DriftResult(s.env.name, tuple(compare(expected, actual)), (), changed)


def _changed_since_applied(s: DatabaseSession, applied, options: dict) -> list[tuple[str, str, set]]:
    """Applied files whose text is not what ran (script, why, what they define): the scratch server
    can only build them as they are now, so what they define differs without anyone having drifted."""
    plan = plan_migrations(s.migrations, applied, **options)
    sources = {source.script: source for source in s.migrations}
    found = [
        (p.file.script, "changed since it was applied; it runs again on the next migrate")
        for p in plan.pending
        if p.file.version is None and p.reason == "changed"
    ]
    found += [
        (f.script, "changed after it was applied (checksum mismatch; see `toolkit db validate`)")
        for f in plan.states
        if f.state == "checksum mismatch"
    ]
    out = []
    for script, why in found:
        try:
            statements = [fill(st.sql, s.placeholders)[0] for st in sources[script].statements]
        except SplitError:
            statements = []
        out.append((script, why, defined_by(statements)))
    return out


def scratch_folder(ctx: Context) -> Path | None:
    """Where the scratch server's data goes: in the state folder, or, when toolkit runs as root and the
    server's unprivileged user cannot enter the state folder (a clone under /root or /tmp/pytest-of-root),
    in a private temporary folder of the system's (None), as the environment's own server goes outside."""
    from toolkit.adapters.postgres.server import server_can_reach

    root = ctx.paths.root
    return root if root.is_dir() and server_can_reach(root) else None
