"""What toolkit hands a stack beyond its var files: injected folders, the outputs of earlier stacks, and an
ephemeral environment's expiry.

Injected where declared: `rendered_pipelines_dir`, `glue_scripts_dir`, and for an ephemeral environment
`expires_at` (from its lifecycle record: the expiry as last tagged, renewed once half its TTL has
passed). A later stack (e.g. `pipelines`) declares a variable with the
same name as an earlier stack's output (`data_bucket`, `database`) and toolkit passes the value — no
`terraform_remote_state`, so each stack can be planned and reviewed on its own. The file is written per
run and removed with it, since an upstream output may be sensitive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from toolkit.deploy.context import Context
from toolkit.deploy.records import tag_expiry
from toolkit.pipelines.fingerprints import scripts_dir
from toolkit.project.model import Environment
from toolkit.project.varfiles import read_var_values
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.outputs import Output
from toolkit.terraform.static import INJECTED


def injected_folders(ctx: Context) -> dict[str, Path]:
    """Folders of the project toolkit injects by variable name, the same in every environment (hashed
    into plan bundles and deployment records as what a stack reads from outside its folder)."""
    return {"glue_scripts_dir": scripts_dir(ctx.project.pipelines_dir)}


def _set_by_var_files(ctx: Context, env: Environment) -> set[str]:
    found: set[str] = set()
    for path in env.var_files:
        found |= set(read_var_values(path, ctx.project.root))
    return found


def injected_values(
    ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output], rendered: Path | None = None
) -> dict[str, object]:
    """Values for the stack's declared variables that its var files do not set; `rendered` replaces the
    environment's rendered folder (plans render elsewhere, so they never touch what `env up` deployed)."""
    declared = read_stack(env.stack_dir(stack_name)).variables
    from_files = _set_by_var_files(ctx, env)
    folders = injected_folders(ctx)
    values: dict[str, object] = {}
    for name in declared:
        if name in from_files or name == "environment":
            continue
        if name == "rendered_pipelines_dir":
            values[name] = str(rendered or ctx.paths.rendered(env.name))
        elif name in folders:
            values[name] = str(folders[name])
        elif name == "expires_at" and env.ephemeral:
            expiry = tag_expiry(ctx, env)
            if expiry:
                values[name] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif name in upstream:
            values[name] = upstream[name].value
    return values


def upstream_reads(ctx: Context, env: Environment, stack_name: str) -> set[str]:
    """Names the stack takes from earlier stacks' outputs: its declared variables that no var file sets and
    toolkit does not inject, and, if it reads the rendered pipelines, every value their placeholders use."""
    declared = read_stack(env.stack_dir(stack_name)).variables
    from_files = _set_by_var_files(ctx, env)
    names = {name for name in declared if name not in from_files and name not in INJECTED}
    if "rendered_pipelines_dir" in declared:
        from toolkit.pipelines.validate import catalog  # jsonschema & co.: only when pipelines are read

        names |= {mark.head for pipeline in catalog(ctx.project).pipelines for mark in pipeline.placeholders}
    return names


def write_injected(
    ctx: Context, env: Environment, stack_name: str, upstream: Mapping[str, Output], rendered: Path | None = None
) -> Path | None:
    """The injected values as a var file readable only by this user, or None when there are none."""
    values = injected_values(ctx, env, stack_name, upstream, rendered)
    if not values:
        return None
    path = ctx.paths.injected_inputs(env.name, stack_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values, indent=2, sort_keys=True))
    return path
