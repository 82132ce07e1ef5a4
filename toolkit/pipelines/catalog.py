"""The project's pipeline files: discovered under the pipelines folder, loaded once, checked per kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.pipelines import aws_checks, kinds, placeholders
from toolkit.pipelines.load import Loaded, load
from toolkit.pipelines.placeholders import Placeholder
from toolkit.pipelines.problems import Problem
from toolkit.support.paths import link_problem


@dataclass(frozen=True)
class Pipeline:
    name: str
    kind: str
    path: Path
    loaded: Loaded
    placeholders: tuple[Placeholder, ...]

    @property
    def file(self) -> str:
        return self.loaded.file

    @property
    def data(self):
        return self.loaded.data


@dataclass(frozen=True)
class Catalog:
    pipelines: tuple[Pipeline, ...]
    problems: tuple[Problem, ...]  # located: file, line, column

    def get(self, name: str) -> Pipeline | None:
        return next((p for p in self.pipelines if p.name == name), None)

    def names(self) -> list[str]:
        return [p.name for p in self.pipelines]


def discover(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


def load_catalog(folder: Path, root: Path | None = None) -> Catalog:
    """Load every pipeline file and run every check that needs no environment; all files, all problems."""
    root = root or folder
    pipelines: list[Pipeline] = []
    found: list[Problem] = []
    seen: dict[str, str] = {}
    for path in discover(folder):
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        escape = link_problem(path, folder, shown) if path.is_symlink() else None
        if escape:
            found.append(Problem(shown, 1, 1, "", "pipelines:link", escape))
            continue
        named = kinds.kind_of(path.name)
        if named is None:
            suffixes = ", ".join(f"*{s}" for s in kinds.SUFFIXES)
            message = f"not a pipeline file: name it by kind ({suffixes})"
            found.append(Problem(shown, 1, 1, "", "pipelines:kind", message))
            continue
        name, kind = named
        if name in seen:
            message = f"pipeline name {name!r} is also used by {seen[name]}"
            found.append(Problem(shown, 1, 1, "", "pipelines:unique-name", message))
        seen[name] = shown
        loaded = load(path, shown)
        found.extend(loaded.problems)
        marks: list[Placeholder] = []
        if loaded.ok:
            marks, problems = placeholders.find(loaded.data, shown)
            found.extend(loaded.locate(p) for p in problems)
        pipelines.append(Pipeline(name, kind, path, loaded, tuple(marks)))
    jobs = [
        p.data.get("Name")
        for p in pipelines
        if p.kind == "glue-job" and p.loaded.ok and isinstance(p.data, dict) and isinstance(p.data.get("Name"), str)
    ]
    for pipeline in pipelines:
        if pipeline.loaded.ok:
            problems = kinds.check(pipeline.data, pipeline.file, pipeline.kind, glue_jobs=jobs)
            found.extend(pipeline.loaded.locate(p) for p in problems)
    loaded = {p.file: p.loaded for p in pipelines if p.loaded.ok}
    names = aws_checks.unique_names((p.file, p.kind, p.data) for p in pipelines if p.loaded.ok)
    found.extend(loaded[p.file].locate(p) for p in names)
    return Catalog(tuple(pipelines), tuple(sorted(found)))
