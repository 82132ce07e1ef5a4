"""`toolkit pipelines ...`: validate, render, graph, fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.deploy.context import Context
from toolkit.errors import UsageError, ValidationFailed
from toolkit.pipelines.validate import ValidationReport, catalog, validate_project

if TYPE_CHECKING:  # `validate`, the command CI runs most, imports none of what rendering needs
    from toolkit.pipelines.rendering import RenderResult
    from toolkit.project.model import Environment
    from toolkit.project.values import Values


@dataclass(frozen=True)
class FingerprintRow:
    name: str
    kind: str
    file: str
    fingerprint: str


@dataclass(frozen=True)
class GraphResult:
    pipeline: str
    mermaid: str


def pipelines_validate(ctx: Context, env_names: list[str] | None = None) -> ValidationReport:
    """Every file, every check, every environment named (default: all); never runs Terraform. No progress
    step around it: a step ends in "ok", and a report with errors is not ok (the result says so). The
    checks of a file unchanged since the last run are not run again (pipelines/verdicts.py)."""
    return validate_project(ctx.project, env_names or None, ctx.cache_file("pipeline-verdicts.json"))


def pipelines_render(ctx: Context, env_name: str, out_dir: Path | None = None) -> RenderResult:
    """Write the deployable definitions for ENV (default: into the folder its pipelines stack reads)."""
    from toolkit.pipelines import outfolder
    from toolkit.pipelines.rendering import render

    out_dir = out_dir or ctx.paths.rendered(env_name)
    outfolder.refuse(ctx.project, out_dir)  # before Terraform runs: a wrong --out is known now
    report = validate_project(ctx.project, [env_name])
    if not report.ok:
        raise ValidationFailed(f"pipelines are not valid for {env_name}", report.errors)
    values = _values_with_outputs(ctx, ctx.project.environment(env_name))
    with ctx.reporter.step(f"render pipelines for {env_name}"):
        return render(ctx.project, values, out_dir)


def _values_with_outputs(ctx: Context, env: Environment) -> Values:
    """values(ENV) from the tfvars and every stack already applied. Outputs the pipelines use from a stack
    not applied yet are a usage error that says so."""
    from toolkit.deploy.rendering import environment_values
    from toolkit.terraform.hcl import read_stack

    values, without_state = environment_values(ctx, env)
    declared_by: dict[str, str] = {}
    for stack in ctx.project.stack_order:
        for name in read_stack(env.stack_dir(stack)).outputs:
            declared_by.setdefault(name, stack)
    used = {mark.head for p in catalog(ctx.project).pipelines for mark in p.placeholders}
    absent = {head: declared_by[head] for head in used if head in declared_by and values.lookup(head) is None}
    if absent:
        why = [
            f"stack {stack!r} has no state in {env.name!r} yet"
            if stack in without_state
            else f"stack {stack!r} has not produced these outputs in {env.name!r} yet (not applied?)"
            for stack in sorted(set(absent.values()))
        ]
        raise UsageError(
            f"cannot render pipelines for {env.name}: {'; '.join(why)}; the pipelines use the outputs "
            + ", ".join(f"{name} ({stack})" for name, stack in sorted(absent.items())),
            hint=f"run `toolkit env up {env.name}` first (it renders the pipelines itself, once the outputs exist)",
        )
    return values


def pipelines_graph(ctx: Context, name: str) -> GraphResult:
    """A state machine or Glue workflow as a Mermaid diagram."""
    from toolkit.pipelines.graph import mermaid

    found = catalog(ctx.project)
    pipeline = found.get(name)
    if pipeline is None:
        raise UsageError(f"no pipeline named {name!r}", hint=f"known: {', '.join(found.names()) or 'none'}")
    # The graph walks the structure the schema guarantees: a file it rejects is reported, not drawn.
    errors = [p for p in found.problems if p.file == pipeline.file and p.is_error]
    if errors:
        raise ValidationFailed(f"{pipeline.file} is not valid", errors, hint="fix these, then graph it")
    return GraphResult(name, mermaid(pipeline.kind, pipeline.data).rstrip("\n"))


def pipelines_fingerprint(ctx: Context) -> list[FingerprintRow]:
    """The code fingerprint of each pipeline (values ignored): equal fingerprints, same code."""
    from toolkit.pipelines.fingerprints import code_fingerprint

    found = catalog(ctx.project)
    broken = [p for p in found.problems if p.is_error and p.keyword.startswith(("json:", "file:"))]
    if broken:
        raise ValidationFailed("some pipeline files do not parse", broken)
    return [
        FingerprintRow(p.name, p.kind, p.file, code_fingerprint(p.name, p.kind, p.data, ctx.project.pipelines_dir))
        for p in sorted(found.pipelines, key=lambda p: p.name)
    ]
