"""Validate the project's pipelines for a set of environments, statically (Terraform is not run)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from toolkit.pipelines.binding import check_offered, offered
from toolkit.pipelines.catalog import Catalog, load_catalog
from toolkit.pipelines.problems import Problem
from toolkit.project.model import Environment, Project


@dataclass(frozen=True)
class ValidationReport:
    environments: tuple[str, ...]
    files: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


_LAST: list[tuple[tuple, Catalog]] = []  # the last catalog this process loaded, with what it was read from


def catalog(project: Project, verdicts_file: Path | None = None) -> Catalog:
    """The project's pipelines, loaded once per process while no file below the folder changes (a run of
    `env up` asks in three steps): keyed by every file's path, inode, size, mtime and ctime. With
    `verdicts_file`, the checks of a file unchanged since an earlier run are not run again."""
    key = (str(project.pipelines_dir), str(project.root), _identity(project.pipelines_dir))
    if _LAST and _LAST[0][0] == key:
        return _LAST[0][1]
    loaded = load_catalog(project.pipelines_dir, project.root, verdicts_file)
    _LAST[:] = [(key, loaded)]
    return loaded


def _identity(folder: Path) -> tuple:
    found = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            found.append((path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(found)


def validate_for_environments(project: Project, env_names: Iterable[str]) -> list[Problem]:
    """Every problem of every pipeline file, and every binding problem in each named environment."""
    return list(validate_project(project, env_names).problems)


def validate_project(
    project: Project, env_names: Iterable[str] | None = None, verdicts_file: Path | None = None
) -> ValidationReport:
    environments = _environments(project, env_names)  # unknown names fail before any work
    names = tuple(env.name for env in environments)
    found = catalog(project, verdicts_file)
    problems = list(found.problems)
    valid = [p for p in found.pipelines if p.loaded.ok]
    for env in environments:
        problems.extend(check_offered(valid, offered(project, env)))
    return ValidationReport(names, len(found.pipelines), tuple(_dedupe(problems)))


def _environments(project: Project, env_names: Iterable[str] | None) -> list[Environment]:
    """The named environments; by default every one, and the ephemeral class's template as an environment
    of its own named `ephemeral` (as `toolkit stacks check` does): every pr-<n> gets exactly its values."""
    template = project.ephemeral.template if project.ephemeral else None
    if env_names is None:
        return [*project.environments.values(), *([template] if template else [])]
    return [
        template
        if template and name == template.name and name not in project.environments
        else project.environment(name)
        for name in env_names
    ]


def validate_folder(folder: Path) -> ValidationReport:
    """A folder of pipeline files alone, no environment (benchmarks, editors): parse, schemas, semantics."""
    found = load_catalog(folder, folder)
    return ValidationReport((), len(found.pipelines), found.problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.column, p.environment or "", p.pointer, p.message))
