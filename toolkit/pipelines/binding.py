"""Is every placeholder bound in an environment, with the declared type, and is nothing secret?

Statically (no Terraform run) an environment offers its merged tfvars (known values), the outputs its
stacks declare (names only; values come after apply) and `environment`. With resolved `Values`
(tfvars ∪ real outputs) the same checks run on the real values before rendering.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.config import Environment, Project
from toolkit.pipelines.catalog import Pipeline
from toolkit.pipelines.placeholders import describe, type_matches
from toolkit.pipelines.problems import WARNING, Problem
from toolkit.values import Value, Values

_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_?key|private_?key|credentials?)$", re.IGNORECASE)
_SECRET_VALUE = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"[a-z][a-z0-9+.-]*://[^:/@\s]+:[^@\s]+@"), "a URL with a password"),
    (re.compile(r"\b(?:ghp|gho|glpat|xox[abp])[-_][A-Za-z0-9_-]{10,}"), "an access token"),
]


@dataclass(frozen=True)
class Offered:
    """What one environment offers to placeholders, known without running Terraform."""

    environment: str
    values: Mapping[str, Value]  # tfvars (merged) and `environment`
    outputs: Mapping[str, bool] = field(default_factory=dict)  # declared output name -> sensitive
    variables: frozenset[str] = frozenset()  # variables the environment's stacks declare
    sensitive_variables: frozenset[str] = frozenset()


def offered(project: Project, env: Environment) -> Offered:
    from toolkit.terraform.hcl import read_stack
    from toolkit.values import tfvars_values

    outputs: dict[str, bool] = {}
    variables: set[str] = set()
    sensitive: set[str] = set()
    for directory in env.stacks.values():
        declaration = read_stack(directory)
        outputs.update({name: out.sensitive for name, out in declaration.outputs.items()})
        variables.update(declaration.variables)
        sensitive.update(name for name, var in declaration.variables.items() if var.sensitive)
    values = tfvars_values(env, project.root, sensitive)
    return Offered(env.name, values, outputs, frozenset(variables), frozenset(sensitive))


def secret_reason(name: str, value: Any) -> str | None:
    if _SECRET_NAME.search(name.rsplit(".", 1)[-1]):
        return f"its name {name!r} says it is a secret"
    if isinstance(value, str):
        for pattern, what in _SECRET_VALUE:
            if pattern.search(value):
                return f"its value looks like {what}"
    return None


def check_offered(pipelines: Iterable[Pipeline], offer: Offered) -> list[Problem]:
    """Placeholders against what an environment declares; unused tfvars values as warnings."""
    found: list[Problem] = []
    used: set[str] = set()
    env = offer.environment
    for pipeline in pipelines:
        for mark in pipeline.placeholders:
            used.add(mark.head)

            def add(keyword: str, message: str, mark=mark, pipeline=pipeline) -> None:
                problem = Problem(pipeline.file, 0, 0, mark.pointer, keyword, message, env)
                found.append(pipeline.loaded.locate(problem))

            if mark.head in offer.outputs:
                if offer.outputs[mark.head]:
                    add(
                        "values:secret",
                        f"@@{{{mark.name}}} is a sensitive output; secrets never go in pipelines",
                    )
                elif reason := secret_reason(mark.name, None):
                    add("values:secret", f"@@{{{mark.name}}}: {reason}; keep secrets in Secrets Manager")
                continue  # its value is known only after apply; `render` checks it then
            value = offer.values.get(mark.head)
            if value is None:
                add("values:unbound", _unbound(mark.name, env))
                continue
            resolved = Values(env, offer.values).lookup(mark.name)
            if resolved is None:
                add(
                    "values:unbound",
                    f"@@{{{mark.name}}}: {mark.head!r} has no key {mark.name.partition('.')[2]!r}",
                )
                continue
            found.extend(pipeline.loaded.locate(p) for p in _value_problems(pipeline, mark, resolved, env))
    for name, value in offer.values.items():
        if name not in used and name not in offer.variables and value.source != "toolkit":
            message = f"value {name!r} ({value.source}) is used by no pipeline and declared by no stack"
            found.append(Problem(value.source, 1, 1, "/" + name, "values:unused", message, env, WARNING))
    return found


def check_values(pipelines: Iterable[Pipeline], values: Values) -> list[Problem]:
    """Placeholders against resolved values (tfvars ∪ outputs), just before rendering."""
    found: list[Problem] = []
    for pipeline in pipelines:
        for mark in pipeline.placeholders:
            resolved = values.lookup(mark.name)
            if resolved is None:
                problem = Problem(pipeline.file, 0, 0, mark.pointer, "values:unbound",
                                  _unbound(mark.name, values.environment), values.environment)  # fmt: skip
                found.append(pipeline.loaded.locate(problem))
            else:
                problems = _value_problems(pipeline, mark, resolved, values.environment)
                found.extend(pipeline.loaded.locate(p) for p in problems)
    return found


def _value_problems(pipeline: Pipeline, mark, value: Value, env: str) -> list[Problem]:
    problems = []
    if value.sensitive:
        problems.append(
            (
                "values:secret",
                f"@@{{{mark.name}}} is sensitive ({value.source}); secrets never go in pipelines",
            )
        )
    elif reason := secret_reason(mark.name, value.value):
        problems.append(
            (
                "values:secret",
                f"@@{{{mark.name}}} ({value.source}): {reason}; keep secrets in Secrets Manager",
            )
        )
    if not type_matches(value.value, mark.type):
        wanted = "a string, number or boolean" if mark.type in ("scalar", "text") else mark.type
        problems.append(
            ("values:type", f"@@{{{mark.name}}} wants {wanted}; {value.source} gives {describe(value.value)}")
        )
    return [Problem(pipeline.file, 0, 0, mark.pointer, keyword, message, env) for keyword, message in problems]


def _unbound(name: str, env: str) -> str:
    head = name.partition(".")[0]
    return (
        f"@@{{{name}}} is not bound in environment {env!r}: add {head!r} to its tfvars "
        "(and declare the variable in its stacks) or as an output of its stacks"
    )
