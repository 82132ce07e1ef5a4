"""Emulator mode (`--endpoint`): every AWS call of this run goes to a local endpoint, never to a real account.

Refuses to start while real credentials or profiles are around, so a typo in an endpoint can never send
an emulator-shaped run to a real account; then gives this process (and its children) dummy credentials.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from toolkit.adapters.aws.emulated_network import ensure_network
from toolkit.adapters.aws.emulated_network import remove_network as remove_emulated_network
from toolkit.adapters.aws.state_bucket import bootstrap_state_bucket
from toolkit.deploy.context import Context
from toolkit.errors import GuardRefused
from toolkit.project.model import Environment
from toolkit.project.varfiles import read_var_values
from toolkit.terraform.hcl import read_stack

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
_REAL_KEY = re.compile(r"^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}$")


def real_credential_sources(environ: Mapping[str, str], home: Path) -> list[str]:
    found = []
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        if environ.get(name):
            found.append(f"${name}")
    if _REAL_KEY.match(environ.get("AWS_ACCESS_KEY_ID", "")):
        found.append("$AWS_ACCESS_KEY_ID (a real access key id)")
    for name in ("credentials", "config"):
        path = home / ".aws" / name
        if path.is_file() and "[" in path.read_text(errors="replace"):
            found.append(str(path))
    return found


def enter_emulator_mode(endpoint: str, environ: dict[str, str] | None = None, home: Path | None = None) -> None:
    """Check for real credentials, then give this process (and its children) dummy ones."""
    environ = os.environ if environ is None else environ
    if not re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/?$", endpoint):
        raise GuardRefused(
            f"--endpoint {endpoint} is not a loopback address",
            hint="emulator mode is for a local AWS emulator, e.g. http://127.0.0.1:5000",
        )
    sources = real_credential_sources(environ, home or Path.home())
    if sources:
        raise GuardRefused(
            "refusing emulator mode while real AWS credentials are configured: " + ", ".join(sources),
            hint="unset them (or run in a clean shell) so nothing can reach a real account",
        )
    environ.update(DUMMY_CREDENTIALS)
    environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    environ["AWS_EC2_METADATA_DISABLED"] = "true"


def _region(ctx: Context, env: Environment) -> str:
    region = env.backend.settings.get("region", "us-east-1")
    for path in env.var_files:
        region = read_var_values(path, ctx.project.root).get("region", region)
    return str(region)


def prepare_environment(ctx: Context, env: Environment) -> Environment:
    """`--emulator` before `env up` or `plan`: the state bucket bootstrapped, a network made for the
    environment (its ids a last var file), and the environment allowed to create its workspaces (the
    emulated account is the machine's own). Returns the environment to run with."""
    if not ctx.endpoint:
        return env
    if ctx.emulator and env.backend.type == "s3":
        settings = env.backend.settings
        bootstrap_state_bucket(settings["bucket"], settings["region"], endpoint=ctx.endpoint)
    if {"vpc_id", "private_subnet_ids"} <= _declared_variables(env):
        path = ctx.paths.emulator_network(env.name)
        network = ensure_network(env.name, region=_region(ctx, env), endpoint=ctx.endpoint)
        text = json.dumps(network, indent=2) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return dataclasses.replace(env, create_workspace=True) if ctx.emulator else env


def remove_network(ctx: Context, env: Environment) -> bool:
    """After the stacks are destroyed in emulator mode: the environment's emulated network goes too."""
    path = ctx.paths.emulator_network(env.name)
    removed = bool(ctx.endpoint and path.is_file())
    if removed:
        remove_emulated_network(env.name, region=_region(ctx, env), endpoint=ctx.endpoint)
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the environment's folder, once its stand-ins are gone too
        path.parent.rmdir()
    return removed


def _declared_variables(env: Environment) -> set[str]:
    names: set[str] = set()
    for directory in env.stacks.values():
        names |= set(read_stack(directory).variables)
    return names
