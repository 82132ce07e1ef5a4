"""`toolkit pipelines ...`: validate, render, graph, fingerprint. One function per verb, typed results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.commands.context import Context
from toolkit.errors import UsageError, ValidationFailed
from toolkit.pipelines.rendering import RenderResult, render
from toolkit.pipelines.validate import ValidationReport, catalog, validate_project
from toolkit.values import Values


@dataclass(frozen=True)
class FingerprintRow:
    name: str
    kind: str
    file: str
    fingerprint: str


def default_out_dir(ctx: Context, env_name: str) -> Path:
    """Where `render` writes unless told otherwise; the pipelines stack reads from here."""
    return ctx.project.state_dir / env_name / "rendered"  # not <env>/pipelines: that is the stack's folder


def pipelines_validate(ctx: Context, env_names: list[str] | None = None) -> ValidationReport:
    """Every file, every check, every environment named (default: all); never runs Terraform."""
    with ctx.reporter.step("validate pipelines"):
        return validate_project(ctx.project, env_names or None)


def environment_values(ctx: Context, env_name: str) -> Values:
    """values(ENV): the tfvars and the outputs of every stack already applied in that environment.
    Outputs the pipelines use from a stack not applied yet are a usage error that says so."""
    from toolkit.commands.values import environment_values as resolve

    values, without_state = resolve(ctx, env_name)
    absent = _outputs_not_there(ctx, env_name, values)
    if absent:
        stacks = sorted(set(absent.values()))
        why = [
            f"stack {stack!r} has no state in {env_name!r} yet"
            if stack in without_state
            else f"stack {stack!r} has not produced these outputs in {env_name!r} yet (not applied?)"
            for stack in stacks
        ]
        raise UsageError(
            f"cannot render pipelines for {env_name}: {'; '.join(why)}; the pipelines use the outputs "
            + ", ".join(f"{name} ({stack})" for name, stack in sorted(absent.items())),
            hint=f"run `toolkit env up {env_name}` first (it renders the pipelines itself, once the outputs exist)",
        )
    return values


def _outputs_not_there(ctx: Context, env_name: str, values: Values) -> dict[str, str]:
    """Outputs the pipelines use that a stack of the environment declares but values(ENV) lacks."""
    from toolkit.terraform.hcl import read_stack

    env = ctx.project.environment(env_name)
    declared_by: dict[str, str] = {}
    for stack in ctx.project.stack_order:
        for name in read_stack(env.stack_dir(stack)).outputs:
            declared_by.setdefault(name, stack)
    used = {mark.head for p in catalog(ctx.project).pipelines for mark in p.placeholders}
    return {head: declared_by[head] for head in used if head in declared_by and values.lookup(head) is None}


def pipelines_render(ctx: Context, env_name: str, out_dir: Path | None = None) -> RenderResult:
    from toolkit.pipelines import outfolder

    out_dir = out_dir or default_out_dir(ctx, env_name)
    outfolder.refuse(ctx.project, out_dir)  # before Terraform runs: a wrong --out is known now
    report = validate_project(ctx.project, [env_name])
    if not report.ok:
        raise ValidationFailed(f"pipelines are not valid for {env_name}", [str(p) for p in report.errors])
    values = environment_values(ctx, env_name)
    with ctx.reporter.step(f"render pipelines for {env_name}"):
        return render(ctx.project, values, out_dir)


def pipelines_graph(ctx: Context, name: str) -> str:
    from toolkit.pipelines.graph import mermaid

    found = catalog(ctx.project)
    pipeline = found.get(name)
    if pipeline is None:
        raise UsageError(f"no pipeline named {name!r}", hint=f"known: {', '.join(found.names()) or 'none'}")
    # The graph walks the structure the schema guarantees: a file it rejects is reported, not drawn.
    errors = [str(p) for p in found.problems if p.file == pipeline.file and p.is_error]
    if errors:
        raise ValidationFailed(f"{pipeline.file} is not valid", errors, hint="fix these, then graph it")
    return mermaid(pipeline.kind, pipeline.data)


def pipelines_fingerprint(ctx: Context) -> list[FingerprintRow]:
    from toolkit.pipelines.fingerprints import code_fingerprint

    found = catalog(ctx.project)
    broken = [str(p) for p in found.problems if p.is_error and p.keyword.startswith(("json:", "file:"))]
    if broken:
        raise ValidationFailed("some pipeline files do not parse", broken)
    return [
        FingerprintRow(p.name, p.kind, p.file, code_fingerprint(p.name, p.kind, p.data, ctx.project.pipelines_dir))
        for p in sorted(found.pipelines, key=lambda p: p.name)
    ]
