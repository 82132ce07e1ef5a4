"""The project's pipeline files: discovered under the pipelines folder, loaded once, checked per kind."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from toolkit.pipelines import aws_checks, kinds, placeholders
from toolkit.pipelines.load import Loaded, known_valid, loads, read_text
from toolkit.pipelines.placeholders import Placeholder
from toolkit.pipelines.problems import Problem
from toolkit.pipelines.verdicts import CACHED_KINDS, Verdicts, file_key
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


def load_catalog(folder: Path, root: Path | None = None, verdicts_file: Path | None = None) -> Catalog:
    """Load every pipeline file and run every check that needs no environment; all files, all problems.
    With `verdicts_file`, an unchanged file's checks are not run again (pipelines/verdicts.py)."""
    root = root or folder
    verdicts = Verdicts(verdicts_file)
    pipelines: list[Pipeline] = []
    found: list[Problem] = []
    seen: dict[str, str] = {}
    unchecked: list[tuple[Pipeline, str | None, list[Problem]]] = []  # with its verdict key, problems so far
    under_root = os.path.join(str(root), "")
    for path in discover(folder):
        where = str(path)  # what path.relative_to(root) gives, for 1,000 files without pathlib's cost
        shown = where[len(under_root) :] if where.startswith(under_root) else where
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
        pipeline, key, problems, checked = _read(path, shown, name, kind, verdicts)
        pipelines.append(pipeline)
        if checked:
            found.extend(problems)
        else:
            unchecked.append((pipeline, key, problems))
    found.extend(_check(pipelines, unchecked, verdicts))
    verdicts.save()
    loaded = {p.file: p.loaded for p in pipelines if p.loaded.ok}
    naming = (p for p in pipelines if p.loaded.ok and p.kind in aws_checks.NAMED_KINDS)  # others' data unparsed
    names = aws_checks.unique_names((p.file, p.kind, p.data) for p in naming)
    found.extend(loaded[p.file].locate(p) for p in names)
    return Catalog(tuple(pipelines), tuple(sorted(found)))


def _read(
    path: Path, shown: str, name: str, kind: str, verdicts: Verdicts
) -> tuple[Pipeline, str | None, list[Problem], bool]:
    """The file as a Pipeline, its verdict key (None: not kept), its problems so far, and whether those are
    all of them (a verdict knew them) or its per-kind checks are still to run."""
    text = read_text(path, shown)
    if isinstance(text, Loaded):
        return Pipeline(name, kind, path, text, ()), None, list(text.problems), True
    key = file_key(text, kind, shown) if kind in CACHED_KINDS and verdicts.path is not None else None
    verdict = verdicts.lookup(key) if key else None
    if verdict is not None:
        problems, marks = verdict
        return Pipeline(name, kind, path, known_valid(text, shown), tuple(marks)), key, problems, True
    loaded = loads(text, shown)
    if not loaded.ok:
        return Pipeline(name, kind, path, loaded, ()), None, list(loaded.problems), True
    marks, malformed = placeholders.find(loaded.data, shown)
    return Pipeline(name, kind, path, loaded, tuple(marks)), key, [loaded.locate(p) for p in malformed], False


def _check(
    pipelines: list[Pipeline], unchecked: list[tuple[Pipeline, str | None, list[Problem]]], verdicts: Verdicts
) -> list[Problem]:
    """The per-kind problems of every parsed file no verdict knew, each file's kept as its verdict."""
    jobs = [
        p.data.get("Name")
        for p in pipelines
        if p.kind == "glue-job" and p.loaded.ok and isinstance(p.data, dict) and isinstance(p.data.get("Name"), str)
    ]
    found: list[Problem] = []
    for pipeline, key, problems in unchecked:
        checked = kinds.check(pipeline.data, pipeline.file, pipeline.kind, glue_jobs=jobs)
        problems.extend(pipeline.loaded.locate(p) for p in checked)
        if key is not None:
            verdicts.remember(key, problems, list(pipeline.placeholders))
        found.extend(problems)
    return found
