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
    """values(ENV): the tfvars and the outputs of every stack already applied in that environment."""
    from toolkit.commands.values import environment_values as resolve

    values, _stacks_without_state = resolve(ctx, env_name)  # their outputs are simply not there yet
    return values


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
    from toolkit.pipelines.fingerprints import fingerprint

    found = catalog(ctx.project)
    broken = [str(p) for p in found.problems if p.is_error and p.keyword.startswith(("json:", "file:"))]
    if broken:
        raise ValidationFailed("some pipeline files do not parse", broken)
    return [
        FingerprintRow(p.name, p.kind, p.file, fingerprint(p.data, p.kind))
        for p in sorted(found.pipelines, key=lambda p: p.name)
    ]
