"""docs/architecture.md stays true: every `folder/module.py:name` it points a newcomer at exists, so each
step of `env up` is one hop from the document to its code; and every verb module is named in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "architecture.md").read_text()
# `deploy/stacks.py:apply_stack`, `terraform/argv.py:StackTarget`, `Stack.outputs()` is not a path: skipped
REFERENCE = re.compile(r"`((?:[a-z_]+/)+[a-z_]+\.py)(?::([A-Za-z_][\w.]*))?")


def defined_names(path: Path) -> set[str]:
    """Top-level functions, classes and assignments, and `Class.method` for methods."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def resolve(relative: str) -> Path | None:
    for base in (REPO / "toolkit", REPO):
        if (base / relative).is_file():
            return base / relative
    return None


def missing_references(doc: str) -> list[str]:
    missing = []
    for relative, name in REFERENCE.findall(doc):
        path = resolve(relative)
        if path is None:
            missing.append(relative)
        elif name and name not in defined_names(path):
            missing.append(f"{relative}:{name}")
    return missing


def test_a_stale_reference_is_caught():
    doc = "`deploy/stacks.py:apply_stack` `deploy/stacks.py:no_such_step` `commands/gone.py` `Stack.outputs()`"
    assert missing_references(doc) == ["deploy/stacks.py:no_such_step", "commands/gone.py"]


def test_every_module_and_name_the_document_points_at_exists():
    missing = missing_references(DOC)
    assert not missing, "docs/architecture.md points at what is not there:\n" + "\n".join(sorted(set(missing)))


def test_the_document_points_at_each_verb_module_and_each_deploy_module():
    named = {relative for relative, _ in REFERENCE.findall(DOC)}
    for folder in ("commands", "deploy"):
        for path in sorted((REPO / "toolkit" / folder).glob("*.py")):
            if path.name != "__init__.py":
                assert f"{folder}/{path.name}" in named, f"docs/architecture.md never names {folder}/{path.name}"
