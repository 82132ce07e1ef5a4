"""The folder `render` writes into: refused when it holds sources, and pruned only of what toolkit wrote.

toolkit lists what it wrote in `MANIFEST` inside the folder. A later render removes a file (a pipeline
deleted from the repo must not stay deployable) only when that list names it, so pointing `--out` at a
folder that holds anything else never deletes it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from toolkit.errors import ConfigError, GuardRefused
from toolkit.pipelines.kinds import RENDER_FOLDERS
from toolkit.project.model import Project

# Not *.json: the pipelines stacks deploy every **/*.json of the folder.
MANIFEST = ".toolkit-rendered"
_OURS = re.compile(r"\A(?:" + "|".join(map(re.escape, RENDER_FOLDERS.values())) + r")/[^/\\]+\.json\Z")


def refuse(project: Project, out_dir: Path) -> None:
    """Refuse an output folder that is, or is inside, the pipelines or tfvars folder, or is not a folder."""
    target = out_dir.resolve()
    for label, folder in (("pipelines", project.pipelines_dir), ("tfvars", project.tfvars_dir)):
        source = folder.resolve()
        # <out>/<kind folder> inside a source folder is as bad: `--out .` when pipelines = "glue"
        written = [target, *(target / sub for sub in RENDER_FOLDERS.values())]
        if any(path == source or path.is_relative_to(source) for path in written):
            where = "is" if target == source else "would write inside"
            raise GuardRefused(
                f"refusing to render into {out_dir}: it {where} the project's {label} folder ({folder}), "
                "whose files rendering would overwrite or remove",
                hint="leave --out out (default .toolkit/ENV/rendered) or name a folder outside the sources",
            )
    if target.exists() and not target.is_dir():
        raise ConfigError(
            "is a file, not a folder", path=str(out_dir), hint="--out names the folder the definitions go in"
        )


def previously_written(project: Project, out_dir: Path) -> set[str]:
    """Files (relative to `out_dir`) an earlier render wrote there, from its manifest."""
    manifest = out_dir / MANIFEST
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
    except FileNotFoundError:
        return _before_manifests(project, out_dir)
    except (OSError, ValueError, AttributeError):
        return set()  # unreadable: prune nothing rather than guess
    return {f for f in listed if isinstance(f, str) and _OURS.match(f)}


def _before_manifests(project: Project, out_dir: Path) -> set[str]:
    """Renders before manifests existed wrote into toolkit's own state folder only: everything in its
    kind folders there is ours. Anywhere else, nothing is assumed to be."""
    if not out_dir.resolve().is_relative_to(project.state_dir.resolve()):
        return set()
    found = [p for sub in RENDER_FOLDERS.values() for p in (out_dir / sub).glob("*.json")]
    return {f for f in (p.relative_to(out_dir).as_posix() for p in found) if _OURS.match(f)}


def write(project: Project, out_dir: Path, texts: dict[str, str], environment: str) -> dict[str, str | None]:
    """Write `texts` (relative path -> content) where they differ, prune stale files toolkit wrote, record
    the manifest; return each file's previous content (None when new). OS errors are configuration."""
    try:
        old = previously_written(project, out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        # Record the union first: if this run dies half-way, the next one still knows every file it owns.
        _manifest(out_dir, old | set(texts), environment)
        before: dict[str, str | None] = {}
        for file, text in texts.items():
            target = out_dir / file
            before[file] = target.read_text(encoding="utf-8") if target.is_file() else None
            if before[file] != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        for stale in sorted(old - set(texts)):
            (out_dir / stale).unlink(missing_ok=True)
        _manifest(out_dir, set(texts), environment)
    except OSError as exc:
        where = exc.filename or out_dir
        raise ConfigError(
            f"cannot write the rendered pipelines: {exc.strerror or exc}",
            path=str(where),
            hint="choose a folder you can write to with --out",
        ) from None
    return before


def _manifest(out_dir: Path, files: set[str], environment: str) -> None:
    body = {"written_by": "toolkit pipelines render", "environment": environment, "files": sorted(files)}
    temporary = out_dir / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, out_dir / MANIFEST)
