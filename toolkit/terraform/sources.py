"""What a stack's code is, as hashes: its folder (without what Terraform writes there), its own override
files, and what it reads from outside its folder. Plan bundles and deployment records compare these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from toolkit.support.hashing import file_sha256
from toolkit.support.hashing import tree_sha256 as _tree_sha256
from toolkit.terraform.emulator_override import OVERRIDE_NAME as EMULATOR_OVERRIDE
from toolkit.terraform.hcl import read_stack

LOCK_FILE = ".terraform.lock.hcl"
_SKIP_DIRS = {".terraform", ".git", "__pycache__", "terraform.tfstate.d"}
_SKIP_SUFFIXES = (".tfplan", ".tfstate", ".tfstate.backup")
# `source = "../modules/x"` (HCL) or `"source": "./x"` (JSON): a module or file the stack reads by path.
_LOCAL_SOURCE = re.compile(r'"?\bsource"?\s*[=:]\s*"(\.\.?/[^"$]*)"')


def is_override(name: str) -> bool:
    """Terraform's override files, merged over the configuration (toolkit writes one in emulator mode)."""
    return name in ("override.tf", "override.tf.json") or name.endswith(("_override.tf", "_override.tf.json"))


def _code_files(keep):
    def kept(relative: Path) -> bool:
        skipped = _SKIP_DIRS.intersection(relative.parts) or relative.name.endswith(_SKIP_SUFFIXES)
        return not skipped and keep(relative.name)

    return kept


def tree_sha256(directory: Path) -> str:
    """One hash over a folder's code (names and contents), in a stable order. Left out: what Terraform writes
    there (data folders, saved plans, state), the provider lock file (a fresh checkout may not have it
    before `init`; a manifest hashes it on its own) and override files (toolkit's emulator override exists
    only while Terraform runs; a manifest hashes the others on their own)."""
    return _tree_sha256(directory, _code_files(lambda name: name != LOCK_FILE and not is_override(name)))


def overrides_sha256(directory: Path) -> str | None:
    """One hash over the stack's own override files (not toolkit's emulator override), None without any."""
    if not any(is_override(p.name) and p.name != EMULATOR_OVERRIDE for p in directory.rglob("*")):
        return None
    return _tree_sha256(directory, _code_files(lambda name: is_override(name) and name != EMULATOR_OVERRIDE))


def lock_file_sha256(directory: Path) -> str | None:
    lock = directory / LOCK_FILE
    return file_sha256(lock) if lock.exists() else None


def external_inputs(directory: Path, root: Path, injected_folders: Mapping[str, Path]) -> dict[str, str]:
    """What the stack reads from outside its folder, path (relative to `root`) -> hash: local module
    sources and files (`source = "../…"`, followed into the modules' own), and each folder toolkit injects
    (variable name -> folder) that the stack declares. A path that does not exist hashes as "missing", so
    it appearing later is a change too."""
    home = directory.resolve()
    found: dict[str, str] = {}
    todo, seen = [home], {home}
    while todo:
        folder = todo.pop()
        for tf in sorted(p for p in folder.rglob("*.tf*") if p.name.endswith((".tf", ".tf.json"))):
            if _SKIP_DIRS.intersection(tf.relative_to(folder).parts):
                continue
            for match in _LOCAL_SOURCE.finditer(tf.read_text(encoding="utf-8", errors="replace")):
                target = (tf.parent / match[1]).resolve()
                if target in seen or target.is_relative_to(home):
                    continue
                seen.add(target)
                found[shown(target, root)] = path_sha256(target)
                if target.is_dir():
                    todo.append(target)
    declared = read_stack(directory).variables
    for variable, folder in injected_folders.items():
        if variable in declared:
            found[shown(folder, root)] = path_sha256(folder)
    return found


def path_sha256(path: Path) -> str:
    return tree_sha256(path) if path.is_dir() else file_sha256(path) if path.is_file() else "missing"


def shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
