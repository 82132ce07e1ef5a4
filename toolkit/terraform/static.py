"""Static checks of the Terraform stacks that need no init and no provider: formatting, parsing, the output
contract between platforms, and tfvars against declared variables. Each rule returns findings as data.

Declarations come from `toolkit.terraform.hcl`; whether a stack parses is decided by Terraform itself
(`terraform providers` loads the whole configuration, then stops at the uninitialised backend, before
any provider is needed).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters import process
from toolkit.support.terminal import plain
from toolkit.terraform.argv import fmt_check_argv, get_modules_argv, providers_argv
from toolkit.terraform.engine import Engine, base_environment
from toolkit.terraform.hcl import StackSource, read_stack

# Set by toolkit on the command line, never in a var file.
INJECTED = frozenset({"environment", "rendered_pipelines_dir", "glue_scripts_dir", "expires_at"})
_BACKEND_NOT_INITIALISED = "Backend initialization required"


@dataclass(frozen=True)
class Finding:
    rule: str  # fmt | parse | reference | contract | missing-value | unknown-key | injected-key | protection
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class EnvironmentInputs:
    """One environment as the value rules see it: its stacks in apply order and its var files."""

    name: str
    stacks: tuple[tuple[str, Path], ...]
    var_files: tuple[Path, ...]


# --- (a) formatting ------------------------------------------------------------------------------


def check_fmt(engine: Engine, directories: Iterable[Path], cwd: Path) -> list[Finding]:
    """`terraform fmt -check -recursive -diff` per directory, run from `cwd` (paths print relative to it)."""
    findings: list[Finding] = []
    for directory in directories:
        result = process.run(
            engine.command(*fmt_check_argv(directory)),
            env=base_environment(),
            cwd=cwd,
        )
        findings += fmt_findings(result.returncode, result.stdout, result.stderr, directory, cwd)
    return findings


def fmt_findings(returncode: int, stdout: str, stderr: str, directory: Path, cwd: Path) -> list[Finding]:
    """One finding per file fmt would change, at its first changed line. A file fmt cannot read (exit 2)
    is left to the parse rule, which says where and why."""
    if returncode == 0:
        return []
    hunks = dict(re.findall(r"^\+\+\+ new/(.+)\n@@ -(\d+)", stdout, flags=re.MULTILINE))
    listed = re.findall(r"^(?![-+@ ])(.+\.(?:tf|tfvars|tf\.json))$", stdout, flags=re.MULTILINE)
    findings = [
        Finding(
            "fmt",
            _shown(cwd / name, cwd),
            int(hunks.get(name, 1)),
            f"not formatted as terraform fmt would write it (run: terraform fmt -recursive {directory})",
        )
        for name in listed
    ]
    if not listed and returncode not in (2, 3):
        findings.append(Finding("fmt", _shown(cwd / directory, cwd), 0, f"terraform fmt failed: {stderr.strip()}"))
    return findings


# --- (b) parsing ---------------------------------------------------------------------------------


def check_parses(engine: Engine, directory: Path, cwd: Path) -> list[Finding]:
    """Terraform's own loader, via `terraform providers` in a throwaway data dir (no init, no download)."""
    with tempfile.TemporaryDirectory(prefix="toolkit-parse-") as data_dir:
        env = base_environment({"TF_DATA_DIR": data_dir})
        if _calls_modules(directory):  # Terraform loads a module only once `get` has installed it
            got = process.run(engine.command(*get_modules_argv(directory)), env=env, cwd=cwd)
            if got.returncode != 0:
                return loader_findings(got.returncode, plain(got.stderr + got.stdout), directory, cwd)
        result = process.run(engine.command(*providers_argv(directory)), env=env, cwd=cwd)
    findings = loader_findings(result.returncode, plain(result.stderr + result.stdout), directory, cwd)
    try:
        read_stack(directory)
    except ValueError as exc:
        if not findings:  # Terraform accepts what toolkit cannot read: say so rather than skip rules
            findings.append(Finding("parse", _shown(directory, cwd), 0, f"toolkit cannot read it: {exc}"))
    return findings


_MODULE_BLOCK = re.compile(r'^\s*module\s+"', re.MULTILINE)


def _calls_modules(directory: Path) -> bool:
    """Whether a .tf file of the stack declares a module block (JSON: a top-level "module" key)."""
    for path in sorted(directory.glob("*.tf")) + sorted(directory.glob("*.tf.json")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if _MODULE_BLOCK.search(text) or (path.name.endswith(".json") and '"module"' in text):
            return True
    return False


def loader_findings(returncode: int, output: str, directory: Path, cwd: Path) -> list[Finding]:
    """The configuration errors in `terraform providers` output. The uninitialised backend is reported
    only once the whole configuration has loaded cleanly, so it is the sign of success, not an error."""
    diagnostics = parse_diagnostics(output, directory, cwd, rule="parse")
    if returncode != 0 and not diagnostics:  # the engine failed without saying where: never a pass
        tail = " ".join(output.strip().splitlines()[-3:])
        return [Finding("parse", _shown(directory, cwd), 0, f"terraform providers failed: {tail}")]
    return [f for f in diagnostics if not f.message.startswith(_BACKEND_NOT_INITIALISED)]


_WHERE = re.compile(r"on (.+?) line (\d+)")


def parse_diagnostics(text: str, base: Path, cwd: Path, *, rule: str) -> list[Finding]:
    """Terraform's human error blocks ("Error: summary", "on file line N", detail) as findings."""
    text = plain(text)
    findings = []
    blocks = re.split(r"^[│╷╵ ]*(?=Error: )", text, flags=re.MULTILINE)
    for block in blocks[1:]:
        lines = [re.sub(r"^[│╷╵]\s?", "", line).rstrip() for line in block.splitlines()]
        summary = lines[0].removeprefix("Error: ").strip()
        where = next((m for m in map(_WHERE.search, lines[1:]) if m), None)
        paragraph: list[str] = []  # the detail: first paragraph that is not the source excerpt
        for text_line in lines[1:]:
            stripped = text_line.strip()
            if not stripped:
                if paragraph:
                    break
            elif not re.match(r"^(on .+ line \d+|\d+:|Reason:)", stripped):
                paragraph.append(stripped)
        file, line = (_shown(base / where.group(1), cwd), int(where.group(2))) if where else (_shown(base, cwd), 0)
        message = summary + (f": {' '.join(paragraph)}" if paragraph else "")
        findings.append(Finding(rule, file, line, message))
    return findings


# --- references (what `terraform validate` would find first, without its providers) ---------------


def check_references(source: StackSource, cwd: Path) -> list[Finding]:
    """Every var., local., resource and data reference names something the stack declares."""
    return [
        Finding(
            "reference",
            _shown(Path(ref.file), cwd),
            ref.line,
            f"{ref.name} is referenced but not declared in {_shown(source.directory, cwd)}",
        )
        for ref in source.references
        if ref.name not in source.symbols
    ]


# --- (c) the output contract ---------------------------------------------------------------------


def check_contract(stack: str, sources: Mapping[Path, StackSource], cwd: Path) -> list[Finding]:
    """Every directory used for `stack` (one per platform) declares the same outputs, same attribute keys."""
    findings: list[Finding] = []
    ordered = sorted(sources.items(), key=lambda item: str(item[0]))
    for (left_dir, left), (right_dir, right) in zip(ordered, ordered[1:], strict=False):
        a, b = _shown(left_dir, cwd), _shown(right_dir, cwd)
        for name in sorted(set(left.outputs) ^ set(right.outputs)):
            have, have_dir, lack = (left, a, b) if name in left.outputs else (right, b, a)
            out = have.outputs[name]
            findings.append(
                Finding(
                    "contract",
                    _shown(Path(out.file), cwd),
                    out.line,
                    f"stack {stack!r}: output {name!r} is declared in {have_dir} but not in {lack}",
                )
            )
        for name in sorted(set(left.outputs) & set(right.outputs)):
            lk, rk = left.outputs[name].keys, right.outputs[name].keys
            if lk is None or rk is None or lk == rk:
                continue  # only object literals on both sides are comparable without evaluating
            for key in sorted(set(lk) ^ set(rk)):
                have_dir, lack, out = (a, b, left.outputs[name]) if key in lk else (b, a, right.outputs[name])
                findings.append(
                    Finding(
                        "contract",
                        _shown(Path(out.file), cwd),
                        out.line,
                        f"stack {stack!r}: output {name!r} has attribute {key!r} in {have_dir} but not in {lack}",
                    )
                )
    return findings


# --- (d) and (e): var files against variables ----------------------------------------------------


def check_protection(
    env: str, protected: bool, setting: tuple[Path, int, object] | None, config: Path, cwd: Path
) -> list[Finding]:
    """toolkit.toml's `protected` and the stacks' `protected` variable agree: toolkit refuses to destroy a
    protected environment, the stacks give it deletion protection and final snapshots.

    `setting` is where the environment's var files set `protected` last (file, line, value), if anywhere.
    """
    value = setting[2] if setting else False  # the stacks' default
    if value is protected:
        return []
    if protected:
        where = (_shown(setting[0], cwd), setting[1]) if setting else (_shown(config, cwd), 0)
        return [
            Finding(
                "protection",
                *where,
                f"environment {env!r} is protected in {config.name} but its var files do not set "
                "protected = true: its database would get no deletion protection and no final snapshot",
            )
        ]
    assert setting is not None
    return [
        Finding(
            "protection",
            _shown(setting[0], cwd),
            setting[1],
            f"environment {env!r} sets protected = {json.dumps(value)} but is not protected in {config.name}",
        )
    ]


def check_values(
    env: EnvironmentInputs,
    sources: Mapping[Path, StackSource],
    var_keys: Mapping[Path, Mapping[str, int]],
    cwd: Path,
) -> list[Finding]:
    """(d) every variable without a default gets a value; (e) every var-file key is some stack's variable.

    `var_keys` holds the keys (with their lines) of each of the environment's var files.
    """
    findings: list[Finding] = []
    given = {key for keys in var_keys.values() for key in keys}
    files = ", ".join(p.name for p in env.var_files) or "no var files"
    fed: set[str] = set()  # outputs of the stacks applied before this one
    declared: set[str] = set()
    for stack, directory in env.stacks:
        source = sources[directory]
        declared |= set(source.variables)
        for name, var in sorted(source.variables.items()):
            if var.has_default or name in given or name in INJECTED or name in fed:
                continue
            findings.append(
                Finding(
                    "missing-value",
                    _shown(Path(var.file), cwd),
                    var.line,
                    f"environment {env.name!r}, stack {stack!r}: variable {name!r} has no default "
                    f"and no value in {files}, and no earlier stack outputs it",
                )
            )
        fed |= set(source.outputs)
    for path, keys in var_keys.items():
        for key, line in keys.items():
            if key in INJECTED:
                findings.append(
                    Finding(
                        "injected-key",
                        _shown(path, cwd),
                        line,
                        f"environment {env.name!r}: {key!r} is set by toolkit and must not be in a var file",
                    )
                )
            elif key not in declared:
                stacks = ", ".join(_shown(d, cwd) for _, d in env.stacks)
                findings.append(
                    Finding(
                        "unknown-key",
                        _shown(path, cwd),
                        line,
                        f"environment {env.name!r}: {key!r} is not a variable of any of its stacks ({stacks})",
                    )
                )
    return findings


def _shown(path: Path, cwd: Path) -> str:
    """A path relative to the project when it is inside it (what people and editors expect)."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path.resolve())
