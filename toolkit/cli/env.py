"""`toolkit env ...`: up, down, status of one environment."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli.base import command, context

app = typer.Typer(no_args_is_help=True, help="Stand an environment up, show it, tear it down.")

EnvArg = Annotated[str, typer.Argument(help="Environment name from toolkit.toml (e.g. local, dev, pr-7).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Send every AWS call to this local endpoint (moto server, LocalStack)."),
]


@app.command("up")
@command
def up(
    env: EnvArg = "local",
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    branch: Annotated[str | None, typer.Option(help="Branch recorded with a new ephemeral environment.")] = None,
) -> None:
    """Validate, apply the Terraform stacks, then apply pending migrations."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.env import env_up

    result = env_up(context(endpoint), env, branch=branch)
    if json:
        print_json(result)
        return
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
    applied = len(result.migrations_applied)
    lines.append(f"  migrations  {applied} applied now, {result.migrations_already_applied} before")
    if result.pipelines_rendered:
        changed = len(result.pipelines_changed)
        lines.append(f"  pipelines   {len(result.pipelines_rendered)} rendered, {changed} changed")
    lines.append(f"  database    {result.database_url}")
    print_text("\n".join(lines))


@app.command("down")
@command
def down(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Destroy the environment's stacks in reverse order (refused for protected environments)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.env import env_down

    result = env_down(context(endpoint), env)
    if json:
        print_json(result)
        return
    destroyed = [s.stack for s in result.stacks if s.changed]
    print_text(
        f"environment {result.environment}: destroyed "
        f"{', '.join(destroyed) if destroyed else 'nothing (already empty)'}"
        + ("; local database removed" if result.database_removed else "")
    )


@app.command("create")
@command
def create(env: EnvArg, json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Create a named environment's workspaces (the one deliberate way; `env up` never invents one)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.environments import env_create

    result = env_create(context(endpoint), env)
    if json:
        print_json(result)
        return
    made = ", ".join(result.created) or "none (all existed)"
    print_text(f"environment {result.environment}: workspaces created in {made}")


@app.command("name")
@command
def name(
    from_branch: Annotated[str, typer.Option("--from-branch", help="Branch or pull request ref, e.g. pull/12.")],
    json: JsonOpt = False,
) -> None:
    """Print the stable ephemeral environment name for a branch or pull request."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.environments import env_name

    name = env_name(context(), from_branch)
    if json:
        print_json({"branch": from_branch, "environment": name})
    else:
        print_text(name)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours // 24}d{hours % 24}h" if hours >= 24 else f"{hours}h{rest // 60:02d}m"


@app.command("list")
@command
def list_(json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Named environments, and ephemeral ones with their age, TTL and whether they expired."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.environments import env_list

    rows = env_list(context(endpoint))
    if json:
        print_json(rows)
        return
    lines = [f"{'NAME':<26}{'KIND':<11}{'AGE':>9}{'TTL':>9}  STATUS"]
    for row in rows:
        status = "protected" if row.protected else ("EXPIRED" if row.expired else "")
        if row.kind == "ephemeral" and row.owner:
            status = f"{status} owner={row.owner}" + (f" branch={row.branch}" if row.branch else "")
        age, ttl = _duration(row.age_seconds), _duration(row.ttl_seconds)
        lines.append(f"{row.name:<26}{row.kind:<11}{age:>9}{ttl:>9}  {status.strip()}")
    print_text("\n".join(lines))


@app.command("reap")
@command
def reap(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say which would be destroyed.")] = False,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
) -> None:
    """Destroy every ephemeral environment past its TTL."""
    from toolkit.cli.base import finish
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.environments import env_reap

    result = env_reap(context(endpoint), dry_run=dry_run)
    if json:
        print_json(result)
    elif dry_run:
        print_text("would destroy: " + (", ".join(result.expired) or "nothing (none expired)"))
    else:
        print_text("destroyed: " + (", ".join(result.reaped) or "nothing (none expired)"))
        for failure in result.failed:
            print_text(f"failed: {failure}")
    finish(1 if result.failed else 0)


@app.command("force-unlock")
@command
def force_unlock_(
    env: EnvArg,
    lock_id: Annotated[str, typer.Argument(help="The lock ID from the lock error message.")],
    stack: Annotated[
        str | None, typer.Option(help="Stack whose state is locked (default: the project's first stack).")
    ] = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
) -> None:
    """Release a state lock left by a run that died (check that it really is dead first)."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.environments import force_unlock

    stack = force_unlock(context(endpoint), env, stack, lock_id)
    if json:
        print_json({"environment": env, "stack": stack, "released": lock_id})
    else:
        print_text(f"released lock {lock_id} on stack {stack} of {env}")


@app.command("status")
@command
def status(env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None) -> None:
    """Workspaces, state serials, applied/pending/failed migrations; changes nothing."""
    from toolkit.cli.output import print_json, print_text
    from toolkit.commands.status import env_status

    result = env_status(context(endpoint), env)
    if json:
        print_json(result)
        return
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
    if result.migrations_applied is None:
        lines.append("  migrations  unknown (database not reachable)")
    else:
        lines.append(f"  migrations  {result.migrations_applied} applied, {len(result.migrations_pending)} pending")
        lines.extend(f"    pending   {script}" for script in result.migrations_pending)
    lines.extend(f"  problem     {problem}" for problem in result.migration_problems)
    for pipeline in result.pipelines:
        lines.append(f"  pipeline    {pipeline.name}: {pipeline.state}")
    if result.expires_at:
        lines.append(f"  expires     {result.expires_at}")
    print_text("\n".join(lines))
