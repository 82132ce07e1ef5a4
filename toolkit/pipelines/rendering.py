"""Render the deployable definitions of one environment: placeholders replaced, stable bytes.

Terraform reads the rendered files, `<out>/<kind folder>/<name>.json` (it never substitutes:
`templatefile()` would also expand `${…}` inside shell commands). Output is deterministic: sorted keys,
two-space indent, a final newline. The result lists each file's code fingerprint and content hash.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from toolkit.errors import ValidationFailed
from toolkit.pipelines import aws_checks, kinds, outfolder, placeholders
from toolkit.pipelines.binding import check_values
from toolkit.pipelines.fingerprints import EDITOR_KEYS, code_fingerprint
from toolkit.pipelines.validate import catalog
from toolkit.project.model import Project
from toolkit.project.values import Values
from toolkit.support.masking import mask


@dataclass(frozen=True)
class RenderedFile:
    name: str
    kind: str
    file: str  # relative to the output folder: <kind folder>/<name>.json
    fingerprint: str  # of the code, values ignored
    sha256: str  # of the rendered bytes
    changed: bool  # differs from what the output folder held before
    diff: tuple[str, ...] = ()  # unified diff against the previous file, secrets masked


@dataclass(frozen=True)
class RenderResult:
    environment: str
    out_dir: Path
    files: tuple[RenderedFile, ...]

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.files)


def dumps(definition: Any) -> str:
    # allow_nan=False: NaN or Infinity would make a file no strict parser (nor AWS) reads; values are
    # checked before rendering (values:type), so reaching this with one is a bug, and it shows.
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def render_text(data: Any, values: Values) -> str:
    lookup = {}
    for mark in placeholders.find(data)[0]:
        lookup[mark.name] = values.lookup(mark.name).value
    rendered = placeholders.substitute(data, lookup)
    if isinstance(rendered, dict):
        rendered = {k: v for k, v in rendered.items() if k not in EDITOR_KEYS}
    return dumps(rendered)


def render(project: Project, values: Values, out_dir: Path) -> RenderResult:
    """Validate for `values`, then write every pipeline of the project into `out_dir` (raises on problems)."""
    outfolder.refuse(project, out_dir)
    found = catalog(project)
    problems = [p for p in found.problems if p.is_error]
    if not problems:
        problems = check_values(found.pipelines, values)
    rendered: list[tuple[Any, str, str]] = []
    for pipeline in found.pipelines if not problems else ():
        text = render_text(pipeline.data, values)
        data = json.loads(text)
        file = f"{kinds.RENDER_FOLDERS[pipeline.kind]}/{pipeline.name}.json"
        # Checked again with the values in: reported where the source says it (keys never hold a
        # placeholder, so pointers match; one inside a value placed there falls back to the placeholder).
        after = kinds.check(data, pipeline.file, pipeline.kind, glue_jobs=_jobs(found, values))
        problems += [
            replace(pipeline.loaded.locate(p), message=f"{p.message} (once rendered)").for_environment(
                values.environment
            )
            for p in after
        ]
        rendered.append((pipeline, file, text))
    # names written differently can still render alike (`@@{a}-x` and `@@{b}-x` when a == b)
    same = aws_checks.unique_names((p.file, p.kind, json.loads(text)) for p, _, text in rendered)
    by_file = {p.file: p.loaded for p in found.pipelines}
    problems += [by_file[p.file].locate(p).for_environment(values.environment) for p in same]
    if problems:
        raise ValidationFailed(
            f"pipelines cannot be rendered for {values.environment}", [str(p) for p in sorted(problems)]
        )
    before = outfolder.write(project, out_dir, {file: text for _, file, text in rendered}, values.environment)
    files = []
    for pipeline, file, text in rendered:
        changed = before[file] != text
        diff = diff_lines(before[file] or "", text, file) if changed else ()
        files.append(
            RenderedFile(
                pipeline.name, pipeline.kind, file,
                code_fingerprint(pipeline.name, pipeline.kind, pipeline.data, project.pipelines_dir),
                hashlib.sha256(text.encode("utf-8")).hexdigest(), changed, diff,
            )
        )  # fmt: skip
    return RenderResult(values.environment, out_dir, tuple(files))


def _jobs(found, values: Values) -> list[str]:
    names = []
    for p in found.pipelines:
        if p.kind == "glue-job" and isinstance(p.data, dict) and isinstance(p.data.get("Name"), str):
            names.append(json.loads(render_text({"Name": p.data["Name"]}, values))["Name"])
    return names


def diff_lines(before: str, after: str, file: str) -> tuple[str, ...]:
    """A unified diff of two renderings of one pipeline, with every known secret masked."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), f"a/{file}", f"b/{file}", lineterm="", n=2)
    return tuple(mask(line) for line in lines)
