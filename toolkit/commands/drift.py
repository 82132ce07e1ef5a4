"""`toolkit drift ENV`: infrastructure changed outside Terraform, and schema changed outside migrations."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.database_drift import database_drift
from toolkit.deploy.rendering import scratch_render
from toolkit.deploy.stacks import open_stack, saved_plan
from toolkit.deploy.validation import load_migrations
from toolkit.migrations.drift import ChangedFile, Difference
from toolkit.terraform.drift import outside_changes
from toolkit.terraform.outputs import Output
from toolkit.terraform.summary import summarize


@dataclass(frozen=True)
class StackDrift:
    stack: str
    drifted: tuple[str, ...]  # changed outside Terraform: "address: action" (terraform/drift.py:outside_changes)
    pending: tuple[str, ...] = ()  # state no longer matches the code: what a normal plan would change


@dataclass(frozen=True)
class DatabaseDrift:
    name: str
    differences: tuple[Difference, ...]
    pending: tuple[ChangedFile, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    environment: str
    stacks: tuple[StackDrift, ...]
    database: tuple[Difference, ...]  # schema changed outside the migrations (kind, name, change, expected, actual)
    database_pending: tuple[ChangedFile, ...] = ()  # applied files edited since: pending, not drift
    warnings: tuple[str, ...] = ()  # e.g. the comparison ran on another PostgreSQL major version
    databases: tuple[DatabaseDrift, ...] = ()  # each database's; the fields above are all of them together

    @property
    def drifted(self) -> bool:
        return bool(self.database) or any(s.drifted or s.pending for s in self.stacks)


def env_drift(ctx: Context, name: str) -> DriftReport:
    """`plan -refresh-only` of every stack plus the schema drift of its database, as one report (meant
    for a nightly job)."""
    env = ctx.project.environment(name)
    stacks = []
    upstream: dict[str, Output] = {}
    outputs_by_stack: dict[str, dict[str, Output]] = {}
    for stack_name in ctx.project.stack_order:
        with ctx.reporter.step(f"refresh-only plan: {stack_name}"):
            # As env up would: a stack that reads rendered pipelines gets them rendered with the outputs so
            # far (into a scratch folder), else a fresh checkout would report every pipeline as drift.
            with (
                scratch_render(ctx, env, stack_name, outputs_by_stack) as rendered,
                open_stack(ctx, env, stack_name, upstream, create=False, rendered=rendered) as (stack, _),
                saved_plan(ctx, env, stack_name, "drift") as plan_file,
            ):
                refreshed = stack.show_plan(plan_file) if stack.plan(plan_file, refresh_only=True) else {}
                planned = stack.show_plan(plan_file) if stack.plan(plan_file) else {}
                outputs_by_stack[stack_name] = stack.outputs()
                upstream.update(outputs_by_stack[stack_name])
            drifted = tuple(outside_changes(refreshed, planned))
            stacks.append(StackDrift(stack_name, drifted, tuple(_pending_lines(planned))))
    databases = []
    for db in ctx.project.databases:  # each in order, against its own scratch database
        scoped = ctx.for_database(db)
        found = database_drift(scoped, env, load_migrations(scoped))
        databases.append(DatabaseDrift(db.name, tuple(found.differences), tuple(found.pending), tuple(found.warnings)))
    return DriftReport(
        env.name,
        tuple(stacks),
        tuple(d for db in databases for d in db.differences),
        tuple(p for db in databases for p in db.pending),
        tuple(w for db in databases for w in db.warnings),
        tuple(databases),
    )


def _pending_lines(plan: dict) -> list[str]:
    return [f"{r.address}: {r.action}" for r in summarize("", plan).resources]
