"""The steps `env up`, `plan`, `apply --plan` and `env status` share, so each is written once.

validate → per stack (inputs from earlier stacks, init, workspace) → database (target, placeholders,
migrate) → pipelines (values, render). The commands compose these; none of them prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.commands.db import lint_files, placeholders_for
from toolkit.commands.stack_inputs import rendered_dir, write_inputs
from toolkit.commands.targets import database_target, history_table
from toolkit.config import Environment
from toolkit.database.connection import DatabaseTarget
from toolkit.errors import ToolkitError, ValidationFailed
from toolkit.migrations.apply import MigrateResult, migrate
from toolkit.migrations.discovery import discover
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.terraform.hcl import read_stack, read_var_file
from toolkit.terraform.outputs import Output
from toolkit.terraform.stack import Stack


@dataclass
class Progress:
    """What this run changed so far, for the message when a later step fails (the failing step's own
    partial changes included: a Terraform apply that got half way, migrations applied before one failed)."""

    changed: list[str] = field(default_factory=list)

    @contextmanager
    def step(self, ctx: Context, title: str, *, partial: Callable[[], list[str]] | None = None) -> Iterator[None]:
        try:
            with ctx.reporter.step(title):
                yield
        except ToolkitError as exc:
            done = "; ".join(self.changed + (partial() if partial else [])) or "nothing"
            exc.message = f"step '{title}' failed: {exc.message}\n  already changed by this run: {done}"
            raise


# Terraform's line for each resource it finished, e.g. `terraform_data.app: Creation complete after 0s`.
_RESOURCE_DONE = re.compile(r"^(?P<address>\S+): (?P<what>Creation|Modifications|Destruction) complete\b")
_DONE_AS = {"Creation": "created", "Modifications": "updated", "Destruction": "destroyed"}


class ResourceWatcher:
    """Collects, from the Terraform output streamed through it, each resource an apply finished: what was
    really changed, even when the apply then failed half way."""

    def __init__(self, stack_name: str) -> None:
        self.stack_name = stack_name
        self.done: dict[str, list[str]] = {}

    def watch(self, stack: Stack) -> None:
        forward = stack.on_line

        def on_line(stream: str, line: str) -> None:
            match = _RESOURCE_DONE.match(line.strip())
            if match:
                self.done.setdefault(_DONE_AS[match["what"]], []).append(match["address"])
            if forward is not None:
                forward(stream, line)

        stack.on_line = on_line

    def counts(self) -> str:
        return ", ".join(f"{len(addresses)} {what}" for what, addresses in self.done.items())

    def partial(self) -> list[str]:
        if not self.done:
            return []
        lists = "; ".join(f"{what} {', '.join(addresses)}" for what, addresses in self.done.items())
        return [f"stack {self.stack_name} partially applied ({lists})"]


def history_rank(ctx: Context, conn) -> int:
    """The last installed_rank of the history table (0 without one): what was applied before this run."""
    with conn.cursor() as cur:
        return max((r.installed_rank for r in history_table(ctx).applied(cur)), default=0)


def applied_since(ctx: Context, target: DatabaseTarget, rank: int) -> list[str]:
    """Scripts applied successfully after `rank`, asked on a new connection (the run's may be broken); for
    the message after a failed migration, so an empty list when the database cannot be asked."""
    from toolkit.database.connection import connect

    with suppress(Exception):  # best effort: never hide the failure being reported
        conn = connect(target, attempts=1)
        try:
            with conn.cursor() as cur:
                return [r.script for r in history_table(ctx).applied(cur) if r.installed_rank > rank and r.success]
        finally:
            conn.close()
    return []


def validate_environment(ctx: Context, env: Environment) -> LoadedMigrations:
    """Everything that will deploy, checked before Terraform runs: migrations (names, directives, lint),
    pipelines bound for this environment, and the var files against the stacks' variables."""
    from toolkit.pipelines import validate_for_environments
    from toolkit.terraform.static import EnvironmentInputs, check_values

    loaded = load(discover(ctx.project.sql_dir))
    lint_files(loaded, ctx.project.migrations.schema)
    problems = [p for p in validate_for_environments(ctx.project, [env.name]) if p.is_error]
    if problems:
        raise ValidationFailed(
            f"pipelines are not valid for environment {env.name!r}:",
            [str(p) for p in problems],
            hint="fix the files (or bind the values in this environment's tfvars), then run again",
        )
    sources = {directory: read_stack(directory) for directory in env.stacks.values()}
    var_keys = {path: read_var_file(path) for path in env.var_files}
    inputs = EnvironmentInputs(env.name, tuple(env.stacks.items()), env.var_files)
    findings = check_values(inputs, sources, var_keys, ctx.project.root)
    if findings:
        raise ValidationFailed(
            f"var files of environment {env.name!r} do not match the stacks' variables:",
            [str(f) for f in findings],
        )
    return loaded


@contextmanager
def open_stack(
    ctx: Context,
    env: Environment,
    stack_name: str,
    upstream: Mapping[str, Output],
    *,
    create: bool,
    rendered: Path | None = None,
) -> Iterator[tuple[Stack, bool]]:
    """An initialised stack in the environment's workspace, with values from earlier stacks passed in
    (and `rendered` as its rendered pipelines folder instead of the environment's own).

    The generated inputs file can hold sensitive upstream outputs, so it lives only for the block.
    """
    inputs = write_inputs(ctx, env, stack_name, upstream, rendered)
    try:
        stack = ctx.stack(env, stack_name, inputs)
        stack.init()
        created = stack.select_workspace(create=create)
        yield stack, created
    finally:
        if inputs is not None:
            inputs.unlink(missing_ok=True)


def existing_outputs(ctx: Context, env: Environment) -> dict[str, dict[str, Output]]:
    """Outputs of every stack that has a workspace in this environment (selecting it), in stack order."""
    found: dict[str, dict[str, Output]] = {}
    for stack_name in ctx.project.stack_order:
        stack = ctx.stack(env, stack_name)
        stack.init()
        if stack.select_existing_workspace():
            found[stack_name] = stack.outputs()
    return found


def renders_pipelines(env: Environment, stack_name: str) -> bool:
    return "rendered_pipelines_dir" in read_stack(env.stack_dir(stack_name)).variables


def render_pipelines(
    ctx: Context,
    env: Environment,
    outputs_by_stack: Mapping[str, Mapping[str, Output]],
    out_dir: Path | None = None,
):
    """Render every pipeline with values(ENV) = tfvars ∪ the outputs so far, into the folder the stack reads
    (the environment's own unless `out_dir` says otherwise). Sensitive values are refused, never rendered."""
    from toolkit.pipelines import render
    from toolkit.values import resolve_values

    values = resolve_values(env, ctx.project.root, outputs_by_stack, sensitive_variables(env))
    return render(ctx.project, values, out_dir or rendered_dir(ctx, env))


@contextmanager
def scratch_render(
    ctx: Context, env: Environment, stack_name: str, outputs_by_stack: Mapping[str, Mapping[str, Output]]
) -> Iterator[Path | None]:
    """For read-only runs (plan, drift): the pipelines rendered into a temporary folder when the stack reads
    them, so what `env up` deployed (and reports as changed next time) is never touched. None otherwise."""
    import tempfile

    if not renders_pipelines(env, stack_name):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="toolkit-render-") as scratch:
        render_pipelines(ctx, env, outputs_by_stack, Path(scratch))
        yield Path(scratch)


def sensitive_variables(env: Environment) -> set[str]:
    """Variables any of the environment's stacks declares `sensitive`: their var-file values are secrets."""
    return {
        name
        for directory in env.stacks.values()
        for name, var in read_stack(directory).variables.items()
        if var.sensitive
    }


def migrate_environment(
    ctx: Context,
    env: Environment,
    conn,
    target: DatabaseTarget,
    outputs: dict[str, Output],
    loaded: LoadedMigrations,
    *,
    dry_run: bool = False,
) -> MigrateResult:
    """Apply (or, dry, show) the environment's pending migrations with its placeholders and settings."""
    settings = ctx.project.migrations
    return migrate(
        conn,
        loaded,
        history_table(ctx),
        lock_timeout_seconds=settings.lock_timeout_seconds,
        on_event=ctx.reporter.detail,
        environment=env.name,
        placeholders=placeholders_for(ctx, env, outputs, target),
        out_of_order=settings.out_of_order,
        lock_timeout=settings.lock_timeout,
        statement_timeout=settings.statement_timeout,
        dry_run=dry_run,
    )


def database_plan(ctx: Context, env: Environment, outputs: dict[str, Output], loaded: LoadedMigrations):
    """The migration plan against the environment's database, or None when it cannot be reached."""
    from toolkit.database.connection import connect
    from toolkit.errors import ToolkitError
    from toolkit.migrations.apply import current_plan
    from toolkit.migrations.lint import refusals

    if "database" not in outputs:
        return None
    try:
        target = database_target(ctx, env, outputs)
        conn = connect(target, attempts=1)
    except ToolkitError as exc:  # an environment not yet up has no database to ask
        ctx.reporter.note(f"database not reachable: {exc.message}")
        return None
    try:
        plan = current_plan(
            conn,
            loaded,
            history_table(ctx),
            environment=env.name,
            out_of_order=ctx.project.migrations.out_of_order,
            placeholders=placeholders_for(ctx, env, outputs, target),
        )
    finally:
        conn.close()
    from dataclasses import replace

    return replace(plan, problems=tuple(plan.problems) + tuple(refusals(plan.pending, ctx.project.migrations.schema)))


def applied_versions(ctx: Context, conn) -> dict[str, int]:
    """Versions applied successfully in the database, with their checksums (what the environment runs)."""
    with conn.cursor() as cur:
        rows = history_table(ctx).applied(cur)
    return {str(r.version): r.checksum for r in rows if r.version is not None and r.success and r.type != "BASELINE"}


def record_deployed(ctx: Context, env: Environment, loaded: LoadedMigrations, applied: dict[str, int]) -> None:
    """After a complete deploy: what this environment now runs, for `toolkit promote-check`."""
    from toolkit.deployments import record_deployment
    from toolkit.gitinfo import current_commit

    folder = rendered_dir(ctx, env)
    rendered = (
        {str(p.relative_to(folder).with_suffix("")): p.read_text(encoding="utf-8") for p in folder.glob("*/*.json")}
        if any(renders_pipelines(env, s) for s in ctx.project.stack_order) and folder.is_dir()
        else {}
    )
    record_deployment(
        ctx.project,
        env,
        loaded,
        applied,
        git_commit=current_commit(ctx.project.root),
        rendered=rendered,
        endpoint=ctx.endpoint,
    )
