"""Pipelines rendered with values(ENV): into the folder the pipelines stack deploys from, or into a scratch
folder for read-only runs (plan, drift, status, checking a bundle), which never touch what `env up`
deployed and compares with next time. Sensitive values are refused, never rendered."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from toolkit.deploy import render_cache
from toolkit.deploy.context import Context
from toolkit.deploy.stacks import renders_pipelines, sensitive_variables, stack_outputs
from toolkit.errors import EnvironmentNotUp
from toolkit.pipelines import outfolder
from toolkit.pipelines.rendering import RenderResult, render
from toolkit.project.model import Environment
from toolkit.project.values import Values, resolve_values
from toolkit.support.hashing import file_sha256
from toolkit.terraform.outputs import Output


def render_pipelines(
    ctx: Context,
    env: Environment,
    outputs_by_stack: Mapping[str, Mapping[str, Output]],
    out_dir: Path | None = None,
) -> RenderResult:
    """Render every pipeline with values(ENV) = tfvars ∪ the outputs so far, into the folder the stack reads
    (the environment's own unless `out_dir` says otherwise). Into its own folder, the last render is
    reused while nothing it read has changed and the folder holds what it wrote (`deploy/render_cache.py`)."""
    values = resolve_values(ctx.as_terraform_sees(env), ctx.project.root, outputs_by_stack, sensitive_variables(env))
    folder = out_dir or ctx.paths.rendered(env.name)
    kept = ctx.cache_file(f"rendered-{env.name}.json") if out_dir is None else None
    if kept is None:
        return render(ctx.project, values, folder)
    outfolder.refuse(ctx.project, folder)  # the guard holds on every run, cached or not
    key = render_cache.render_key(ctx.project, values, folder)
    result = render_cache.load(kept, key, env.name, folder)
    if result is None:
        result = render(ctx.project, values, folder)
        render_cache.store(kept, key, result)
    return result


def kept_render(
    ctx: Context, env: Environment, outputs_by_stack: Mapping[str, Mapping[str, Output]]
) -> RenderResult | None:
    """The environment's last render when `render_pipelines` with these outputs would reuse it, writing
    nothing (its inputs unchanged, its folder holding what it wrote); None otherwise or with caches off."""
    kept = ctx.cache_file(f"rendered-{env.name}.json")
    if kept is None:
        return None
    values = resolve_values(ctx.as_terraform_sees(env), ctx.project.root, outputs_by_stack, sensitive_variables(env))
    folder = ctx.paths.rendered(env.name)
    return render_cache.load(kept, render_cache.render_key(ctx.project, values, folder), env.name, folder)


@contextmanager
def scratch_render(
    ctx: Context, env: Environment, stack_name: str, outputs_by_stack: Mapping[str, Mapping[str, Output]]
) -> Iterator[Path | None]:
    """For read-only runs: the pipelines rendered into a temporary folder when the stack reads them, None
    otherwise."""
    if not renders_pipelines(env, stack_name):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="toolkit-render-") as scratch:
        render_pipelines(ctx, env, outputs_by_stack, Path(scratch))
        yield Path(scratch)


def rendered_hashes(folder: Path) -> dict[str, str]:
    """`<kind folder>/<name>` -> SHA-256 of each rendered file in `folder`."""
    return {str(path.relative_to(folder).with_suffix("")): file_sha256(path) for path in sorted(folder.rglob("*.json"))}


def hashes_rendered_now(ctx: Context, values: Values) -> dict[str, str]:
    """What the pipelines render to with `values`, as hashes, rendered in a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="toolkit-render-") as scratch:
        render(ctx.project, values, Path(scratch))
        return rendered_hashes(Path(scratch))


def environment_values(ctx: Context, env: Environment) -> tuple[Values, tuple[str, ...]]:
    """values(ENV): tfvars ∪ the outputs of every stack that has state; also the stacks that have none."""
    outputs: dict[str, dict[str, Output]] = {}
    missing = []
    for stack_name in ctx.project.stack_order:
        try:
            outputs[stack_name] = stack_outputs(ctx, env, stack_name)
        except EnvironmentNotUp:
            missing.append(stack_name)
    return resolve_values(ctx.as_terraform_sees(env), ctx.project.root, outputs, sensitive_variables(env)), tuple(
        missing
    )


def deploys_pipelines(ctx: Context, env: Environment) -> bool:
    return any(renders_pipelines(env, s) for s in ctx.project.stack_order)
