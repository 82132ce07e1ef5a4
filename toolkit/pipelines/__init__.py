"""Pipeline definitions kept as JSON in the repo: strict loading, validation per kind, values, rendering.

The entry points other parts of toolkit use (`env up`, `plan`, promotion) are the three below; they
import their modules when called, so importing this package stays cheap. (No submodule is named like
an entry point: importing `toolkit.pipelines.render` would replace the function `render` here.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from toolkit.config import Project
    from toolkit.pipelines.problems import Problem
    from toolkit.pipelines.rendering import RenderResult
    from toolkit.values import Values


def validate_for_environments(project: Project, env_names: Iterable[str]) -> list[Problem]:
    """Every problem of every pipeline file, and of its values in each environment (no Terraform run)."""
    from toolkit.pipelines.validate import validate_for_environments as run

    return run(project, env_names)


def render(project: Project, values: Values, out_dir: Path) -> RenderResult:
    """Write the deployable definitions for `values.environment` into `out_dir` (raises ValidationFailed)."""
    from toolkit.pipelines.rendering import render as run

    return run(project, values, out_dir)


def fingerprint(definition: Any, kind: str = "", scripts: Mapping[str, str] | None = None) -> str:
    """The code fingerprint of a definition as written (placeholders unresolved, values ignored), and of
    the scripts it runs (file name -> SHA-256); `fingerprints.code_fingerprint` finds a Glue job's."""
    from toolkit.pipelines.fingerprints import fingerprint as run

    return run(definition, kind, scripts)
