"""`toolkit env ...`: stand one environment up, show it, tear it down; create, name, list, extend and reap them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli import text
from toolkit.cli.console import show
from toolkit.cli.invocation import command, context
from toolkit.cli.options import BranchOpt, EmulatorOpt, EndpointOpt, EnvArg, JsonOpt

app = typer.Typer(no_args_is_help=True, help="Stand an environment up, show it, tear it down.")


@app.command("up")
@command
def up(
    env: EnvArg = "local",
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
    branch: BranchOpt = None,
) -> None:
    """Validate, apply the Terraform stacks, then apply pending migrations."""
    from toolkit.cli import direct

    direct.up(env, json, endpoint, emulator, branch)


@app.command("down")
@command
def down(
    env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None, emulator: EmulatorOpt = False
) -> None:
    """Destroy the environment's stacks in reverse order (refused for protected environments)."""
    from toolkit.commands.env import env_down

    show(env_down(context(endpoint, emulator=emulator), env), json, text.env_down)


@app.command("create")
@command
def create(env: EnvArg, json: JsonOpt = False, endpoint: EndpointOpt = None, emulator: EmulatorOpt = False) -> None:
    """Create a named environment's workspaces (the one deliberate way; `env up` never invents one)."""
    from toolkit.commands.environments import env_create

    show(env_create(context(endpoint, emulator=emulator), env), json, text.env_create)


@app.command("unprotect")
@command
def unprotect(
    env: EnvArg,
    confirm: Annotated[str | None, typer.Option("--confirm", help="The environment's name again.")] = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
) -> None:
    """Lift the protection recorded beside the state, once toolkit.toml no longer protects ENV (on CI: only
    from a reviewed change)."""
    from toolkit.commands.environments import env_unprotect

    show(env_unprotect(context(endpoint), env, confirm), json, text.env_unprotect)


@app.command("push-state")
@command
def push_state(
    env: EnvArg,
    stack: Annotated[str | None, typer.Option("--stack", help="The stack (default: the first).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="The errored.tfstate to push.")] = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
) -> None:
    """Push the state Terraform could not save to the backend (errored.tfstate), then remove it."""
    from toolkit.commands.environments import env_push_state

    show(env_push_state(context(endpoint), env, stack, file), json, text.env_push_state)


@app.command("name")
@command
def name(
    from_branch: Annotated[str, typer.Option("--from-branch", help="Branch or pull request ref, e.g. pull/12.")],
    json: JsonOpt = False,
) -> None:
    """Print the stable ephemeral environment name for a branch or pull request."""
    from toolkit.commands.environments import env_name

    show({"branch": from_branch, "environment": env_name(context(), from_branch)}, json, text.env_name)


@app.command("list")
@command
def list_(json: JsonOpt = False, endpoint: EndpointOpt = None, emulator: EmulatorOpt = False) -> None:
    """Named environments, and ephemeral ones with their age, TTL and whether they expired."""
    from toolkit.commands.environments import env_list

    show(env_list(context(endpoint, emulator=emulator)), json, text.env_list)


@app.command("extend")
@command
def extend(
    env: EnvArg,
    ttl: Annotated[
        str | None, typer.Option("--ttl", help="How long to keep it from now, and from each later use: 90m, 72h, 7d.")
    ] = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Keep an ephemeral environment longer: its TTL (default: the class's) counts again from now."""
    from toolkit.commands.environments import env_extend
    from toolkit.errors import UsageError
    from toolkit.project.durations import parse_duration

    seconds = parse_duration(ttl, lambda message: UsageError(f"--ttl: {message}")) if ttl is not None else None
    show(env_extend(context(endpoint, emulator=emulator), env, seconds), json, text.env_extend)


@app.command("reap")
@command
def reap(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say which would be destroyed.")] = False,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Destroy every ephemeral environment past its TTL."""
    from toolkit.commands.environments import env_reap

    result = env_reap(context(endpoint, emulator=emulator), dry_run=dry_run)
    show(result, json, text.env_reap, exit_code=1 if result.failed else 0)


@app.command("force-unlock")
@command
def force_unlock(
    env: EnvArg,
    lock_id: Annotated[str, typer.Argument(help="The lock ID from the lock error message.")],
    stack: Annotated[
        str | None, typer.Option(help="Stack whose state is locked (default: the project's first stack).")
    ] = None,
    json: JsonOpt = False,
    endpoint: EndpointOpt = None,
    emulator: EmulatorOpt = False,
) -> None:
    """Release a state lock left by a run that died (check that it really is dead first)."""
    from toolkit.commands.environments import env_force_unlock

    show(env_force_unlock(context(endpoint, emulator=emulator), env, stack, lock_id), json, text.env_force_unlock)


@app.command("status")
@command
def status(
    env: EnvArg = "local", json: JsonOpt = False, endpoint: EndpointOpt = None, emulator: EmulatorOpt = False
) -> None:
    """Workspaces, state serials, applied/pending/failed migrations; changes nothing."""
    from toolkit.commands.status import env_status

    show(env_status(context(endpoint, emulator=emulator), env), json, text.env_status)
