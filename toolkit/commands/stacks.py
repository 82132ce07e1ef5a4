"""`toolkit stacks check`: the static checks of every stack directory the environments use (no init)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.deploy.context import Context
from toolkit.project.varfiles import read_var_keys
from toolkit.terraform.hcl import StackSource, read_stack
from toolkit.terraform.static import (
    EnvironmentInputs,
    Finding,
    check_contract,
    check_fmt,
    check_parses,
    check_protection,
    check_references,
    check_values,
)


@dataclass(frozen=True)
class StacksCheckResult:
    directories: tuple[str, ...]  # every stack directory checked, relative to the project
    environments: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def stacks_check(ctx: Context) -> StacksCheckResult:
    """fmt, parse, the output contract per stack name, then tfvars against variables per environment."""
    project = ctx.project
    root = project.root
    # the ephemeral class's template is checked like an environment: every pr-<n> gets exactly it
    environments = [*project.environments.values(), *([project.ephemeral.template] if project.ephemeral else [])]
    by_stack: dict[str, list[Path]] = {name: [] for name in project.stack_order}
    for env in environments:
        for name, directory in env.stacks.items():
            if directory not in by_stack[name]:
                by_stack[name].append(directory)
    directories = [d for dirs in by_stack.values() for d in dirs]
    findings: list[Finding] = []
    with ctx.reporter.step("terraform fmt -check"):
        findings += check_fmt(
            ctx.engine, [d.relative_to(root) if d.is_relative_to(root) else d for d in directories], root
        )
    sources: dict[Path, StackSource] = {}
    with ctx.reporter.step(f"parse {len(directories)} stack directories"):
        for directory in directories:
            problems = check_parses(ctx.engine, directory, root)
            findings += problems
            if not problems:
                sources[directory] = read_stack(directory)
                findings += check_references(sources[directory], root)
    with ctx.reporter.step("output contract"):
        for name, dirs in by_stack.items():
            if len(dirs) > 1 and all(d in sources for d in dirs):
                findings += check_contract(name, {d: sources[d] for d in dirs}, root)
    with ctx.reporter.step("tfvars against variables"):
        for env in environments:
            if all(d in sources for d in env.stacks.values()):
                inputs = EnvironmentInputs(env.name, tuple(env.stacks.items()), env.var_files)
                var_keys = {path: read_var_keys(path) for path in env.var_files}
                findings += check_values(inputs, sources, var_keys, root)
                if any("protected" in sources[d].variables for d in env.stacks.values()):
                    setting = _last_setting(var_keys, "protected")
                    findings += check_protection(env.name, env.protected, setting, project.config_path, root)
    return StacksCheckResult(
        directories=tuple(str(d.relative_to(root)) if d.is_relative_to(root) else str(d) for d in directories),
        environments=tuple(env.name for env in environments),
        findings=tuple(findings),
    )


def _last_setting(var_keys: dict[Path, dict[str, int]], key: str) -> tuple[Path, int, object] | None:
    """Where the var files set `key` last (later files win, as with -var-file), and to what."""
    for path in reversed(list(var_keys)):
        if key in var_keys[path]:
            if path.name.endswith(".json"):
                value = json.loads(path.read_text(encoding="utf-8"))[key]
            else:
                import hcl2

                value = hcl2.loads(path.read_text(encoding="utf-8"))[key]
            return path, var_keys[path][key], value
    return None
