"""What toolkit hands a stack beyond its var files: injected folders and the outputs of earlier stacks.

Injected where declared: `rendered_pipelines_dir`, `glue_scripts_dir`, and for an ephemeral environment
`expires_at` (from its lifecycle record). A later stack (e.g. `pipelines`) declares a variable with the
same name as an earlier stack's output (`data_bucket`, `database`) and toolkit passes the value — no
`terraform_remote_state`, so each stack can be planned and reviewed on its own. The file is written per
run and removed with it, since an upstream output may be sensitive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.config import Environment
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.outputs import Output
from toolkit.values import read_var_file


def rendered_dir(ctx: Context, env: Environment) -> Path:
    """Where the environment's pipelines are rendered; the pipelines stack reads them from here."""
    from toolkit.commands.pipelines import default_out_dir

    return default_out_dir(ctx, env.name)


def bundle_rendered_dir(ctx: Context, env: Environment) -> Path:
    """Where a plan bundle's pipelines are rendered at plan time and put back at apply time: a saved plan
    records the folder it read them from, and Terraform reads them again there when it applies."""
    return ctx.project.env_state_dir(env) / "bundle" / "rendered"


def glue_scripts_dir(ctx: Context) -> Path:
    from toolkit.bundle import glue_scripts_dir as scripts

    return scripts(ctx.project)


def stack_inputs(
    ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output], rendered: Path | None = None
) -> dict[str, object]:
    """Values for the stack's declared variables that its var files do not set; `rendered` replaces the
    environment's rendered folder (plans render elsewhere, so they never touch what `env up` deployed)."""
    declared = read_stack(env.stack_dir(stack_name)).variables
    from_files: set[str] = set()
    for path in env.var_files:
        from_files |= set(read_var_file(path, ctx.project.root))
    inputs: dict[str, object] = {}
    for name in declared:
        if name in from_files or name == "environment":
            continue
        if name == "rendered_pipelines_dir":
            inputs[name] = str(rendered or rendered_dir(ctx, env))
        elif name == "glue_scripts_dir":
            inputs[name] = str(glue_scripts_dir(ctx))
        elif name == "expires_at" and env.ephemeral:
            expires = _expires_at(ctx, env)
            if expires:
                inputs[name] = expires
        elif name in upstream:
            inputs[name] = upstream[name].value
    return inputs


def upstream_reads(ctx: Context, env: Environment, stack_name: str) -> set[str]:
    """Names the stack takes from earlier stacks' outputs: its declared variables that no var file sets and
    toolkit does not inject, and, if it reads the rendered pipelines, every value their placeholders use."""
    from toolkit.terraform.static import INJECTED

    declared = read_stack(env.stack_dir(stack_name)).variables
    from_files: set[str] = set()
    for path in env.var_files:
        from_files |= set(read_var_file(path, ctx.project.root))
    names = {name for name in declared if name not in from_files and name not in INJECTED}
    if "rendered_pipelines_dir" in declared:
        from toolkit.pipelines.validate import catalog

        names |= {mark.head for pipeline in catalog(ctx.project).pipelines for mark in pipeline.placeholders}
    return names


def write_inputs(
    ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output], rendered: Path | None = None
) -> Path | None:
    inputs = stack_inputs(ctx, env, stack_name, upstream, rendered)
    if not inputs:
        return None
    path = ctx.project.env_state_dir(env) / stack_name / "inputs.tfvars.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(inputs, indent=2, sort_keys=True))
    return path


def _expires_at(ctx: Context, env: Environment) -> str | None:
    """An ephemeral environment's expiry, fixed when it was first stood up (its lifecycle record)."""
    from toolkit.commands.environments import ephemeral_store

    store = ephemeral_store(ctx)
    record = store.get(env.name) if store else None
    return record.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if record else None
