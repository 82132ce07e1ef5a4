"""Paths as people wrote them: relative to the project root when inside it."""

from __future__ import annotations

import os
from pathlib import Path


def shown(path: Path, root: Path | None) -> str:
    """`path` relative to `root` when it is inside it (what people and editors expect), else as given."""
    if root is not None and path.is_relative_to(root):
        return str(path.relative_to(root))
    return str(path)


def outside(path: Path | str, home: Path | str) -> str | None:
    """Where `path` really leads (symbolic links followed) when that is outside the folder `home`, else
    None. Inputs found in a project folder may link only within that folder, so one symlink in a pull
    request cannot make toolkit read (and print) a file of the machine it runs on."""
    real = os.path.realpath(path)
    root = os.path.realpath(home)
    return None if real == root or real.startswith(root.rstrip(os.sep) + os.sep) else real


def link_problem(path: Path | str, home: Path | str, shown_as: str) -> str | None:
    """The message for an input that links outside its folder (None when it does not)."""
    target = outside(path, home)
    if target is None:
        return None
    return (
        f"{shown_as} is a symbolic link to {target}, outside {home}: toolkit reads no input through a link "
        "that leaves its folder (replace the link with the file itself, or link only within the folder)"
    )


def links_out(folder: Path) -> str | None:
    """The message for the first file directly in `folder` that links out of it (None when none does)."""
    for file in sorted(folder.iterdir()):
        if file.is_symlink() and (problem := link_problem(file, folder, str(file))):
            return problem
    return None


def resolve_inside(written: Path, home: Path) -> Path:
    """The path, links followed. ValueError (its message for people) when a path written inside `home`
    is taken out of it by a symbolic link (a path written outside, `../shared`, is what the reviewed
    configuration says and is kept), or when the OS refuses the name (too long)."""
    lexical = Path(os.path.normpath(written))
    try:
        problem = link_problem(lexical, home, str(lexical)) if lexical.is_relative_to(home) else None
        resolved = lexical.resolve()
        resolved.exists()  # a name the OS refuses fails here, not later with a traceback
    except OSError as exc:
        raise ValueError(f"cannot be used as a path: {exc.strerror}") from None
    if problem:
        raise ValueError(problem)
    return resolved
