"""`env up` and `env down`: the main job, composed from the steps in `toolkit.deploy`.

Up: validate → each stack in order (the first one's outputs feed the database step; a stack that reads
rendered pipelines gets them rendered just before it) → deployment record → summary. A failure stops the
run and says which step failed and what this run had already changed; running the same command again
continues from there, since every step skips what is already done. The first two stacks' plans may start
as the run begins (deploy/speculation.py), so Terraform plans while the run validates; a plan made early
is used at its stack's turn only if it is the plan that turn would make, and nothing is applied before
validation has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from toolkit.deploy.context import Context
from toolkit.deploy.guards import refuse_protected
from toolkit.deploy.progress import Progress, ResourceWatcher
from toolkit.deploy.speculation import early_plans
from toolkit.deploy.stacks import StackOutcome, apply_stack, renders_pipelines

if TYPE_CHECKING:  # env down's and the emulator's modules are imported by the steps that use them
    from toolkit.deploy.teardown import EnvDownResult
    from toolkit.migrations.results import AppliedStep
    from toolkit.terraform.outputs import Output


@dataclass(frozen=True)
class DatabaseUp:
    name: str
    applied: tuple[AppliedStep, ...]
    already_applied: int
    url: str


@dataclass(frozen=True)
class EnvUpResult:
    environment: str
    engine: str
    stacks: tuple[StackOutcome, ...]
    migrations_applied: tuple[AppliedStep, ...]
    migrations_already_applied: int
    database_url: str
    pipelines_rendered: tuple[str, ...] = ()
    pipelines_changed: tuple[str, ...] = ()
    databases: tuple[DatabaseUp, ...] = ()  # each database in the order migrated (the fields above: all of them)

    @property
    def changed(self) -> bool:
        return bool(self.migrations_applied) or any(s.changed for s in self.stacks)


def env_up(ctx: Context, name: str, *, branch: str | None = None) -> EnvUpResult:
    """Validate, apply every stack in order, migrate the database the outputs describe, deploy pipelines."""
    env = ctx.project.environment(name)
    refuse_protected(env, "toolkit env up")
    progress = Progress()
    if ctx.endpoint:
        with progress.step(ctx, "emulator"):
            from toolkit.deploy.emulator import prepare_environment

            env = prepare_environment(ctx, env)
    outcomes: list[StackOutcome] = []
    outputs_by_stack: dict[str, dict[str, Output]] = {}
    upstream: dict[str, Output] = {}
    migrated = {}
    rendered = changed_pipelines = ()
    render_result = None
    with early_plans(ctx, env, progress) as early:  # Terraform plans while the steps below run
        # The steps' modules are imported while those plans run, not before they start.
        from toolkit.deploy.deployment import record_deployed
        from toolkit.deploy.migrating import migrate_databases
        from toolkit.deploy.rendering import render_pipelines
        from toolkit.deploy.validation import validate_databases

        with progress.step(ctx, "validate"):
            loaded = validate_databases(ctx, env)
            for database, files in loaded.items():
                where = f" in {database}" if len(loaded) > 1 else ""
                ctx.reporter.note(
                    f"{len(files.versioned)} versioned and {len(files.repeatable)} repeatable migration(s){where}"
                )
        if env.ephemeral:
            with progress.step(ctx, "lifecycle record"):
                from toolkit.deploy.records import record_ephemeral

                if record_ephemeral(ctx, env, branch, use="env up"):  # else renewed: the TTL counts from now
                    progress.changed.append(f"lifecycle record of {env.name!r} written")
        for index, stack_name in enumerate(ctx.project.stack_order):
            if renders_pipelines(env, stack_name):
                with progress.step(ctx, "render pipelines"):
                    render_result = render_pipelines(ctx, env, outputs_by_stack)
                    rendered = tuple(f.name for f in render_result.files)
                    changed_pipelines = tuple(f.name for f in render_result.files if f.changed)
                    ctx.reporter.note(f"{len(rendered)} pipeline(s) rendered, {len(changed_pipelines)} changed")
            watcher = ResourceWatcher(stack_name)
            with progress.step(ctx, f"terraform: {stack_name}", partial=watcher.partial):
                done = None
                made_early = early.pop(stack_name, None)
                if made_early is not None:
                    so_far = (outcomes, outputs_by_stack, render_result)
                    done = made_early.apply_if_same(ctx, env, progress, *so_far, watcher)
                outcome, outputs = done or apply_stack(ctx, env, stack_name, upstream, watcher)
            outcomes.append(outcome)
            if outcome.changed:
                progress.changed.append(f"stack {stack_name} applied ({watcher.counts() or 'outputs only'})")
            outputs_by_stack[stack_name] = outputs
            upstream.update(outputs)
            if index == 0:
                migrated = migrate_databases(ctx, env, outputs, loaded, progress)
    with progress.step(ctx, "deployment record"):
        record_deployed(ctx, env, loaded, migrated, rendered=render_result)
    databases = tuple(
        DatabaseUp(name, run.result.applied, run.result.already_applied, run.target.url)
        for name, run in migrated.items()
    )
    return EnvUpResult(
        environment=env.name,
        engine=ctx.engine.describe(),
        stacks=tuple(outcomes),
        migrations_applied=tuple(step for d in databases for step in d.applied),
        migrations_already_applied=sum(d.already_applied for d in databases),
        database_url=databases[0].url,
        pipelines_rendered=rendered,
        pipelines_changed=changed_pipelines,
        databases=databases,
    )


def env_down(ctx: Context, name: str) -> EnvDownResult:
    """Destroy every stack in reverse order (refused for protected environments); the local database
    server and its data go too, and an ephemeral environment's workspaces and record."""
    env = ctx.project.environment(name)
    if ctx.emulator:  # toolkit's own emulator: the workspaces env up created go with the environment
        env = replace(env, create_workspace=True)
    from toolkit.deploy.teardown import tear_down

    return tear_down(ctx, env)
