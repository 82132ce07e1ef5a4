"""Is every placeholder bound in an environment, with the declared type, and is nothing secret?

Statically (no Terraform run) an environment offers its merged tfvars (known values), the outputs its
stacks declare (names only; values come after apply) and `environment`. With resolved `Values`
(tfvars ∪ real outputs) the same checks run on the real values before rendering.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.pipelines import secretlike
from toolkit.pipelines.catalog import Pipeline
from toolkit.pipelines.load import Loaded, loads
from toolkit.pipelines.placeholders import Placeholder, describe, type_matches, unrepresentable
from toolkit.pipelines.problems import WARNING, Problem, pointer_of
from toolkit.project.model import Environment, Project
from toolkit.project.values import Value, Values


@dataclass(frozen=True)
class Offered:
    """What one environment offers to placeholders, known without running Terraform."""

    environment: str
    values: Mapping[str, Value]  # tfvars (merged) and `environment`
    outputs: Mapping[str, bool] = field(default_factory=dict)  # declared output name -> sensitive
    variables: frozenset[str] = frozenset()  # variables the environment's stacks declare
    sensitive_variables: frozenset[str] = frozenset()
    files: Mapping[str, Loaded] = field(default_factory=dict)  # each var file as read, by its shown path
    # output name -> its attributes, where the shape is known statically (an object literal in HCL)
    output_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def offered(project: Project, env: Environment) -> Offered:
    from toolkit.project.values import tfvars_values
    from toolkit.support.paths import shown as display_path
    from toolkit.terraform.hcl import read_stack
    from toolkit.terraform.outputs import DATABASE_FIELDS

    outputs: dict[str, bool] = {}
    output_keys: dict[str, tuple[str, ...]] = {}
    variables: set[str] = set()
    sensitive: set[str] = set()
    for directory in env.stacks.values():  # in stack order: a later stack's output wins, as in values(ENV)
        declaration = read_stack(directory)
        outputs.update({name: out.sensitive for name, out in declaration.outputs.items()})
        for name, out in declaration.outputs.items():
            # () is what the reader gives a `for` expression: its keys are not known, only a literal's are
            keys = out.keys or (tuple(DATABASE_FIELDS) if name == "database" else None)
            if keys:
                output_keys[name] = keys
            else:
                output_keys.pop(name, None)
        variables.update(declaration.variables)
        sensitive.update(name for name, var in declaration.variables.items() if var.sensitive)
    values = tfvars_values(env, project.root, sensitive)  # raises ConfigError on a broken file: first
    files = {}
    for path in env.var_files:
        shown = display_path(path, project.root)
        files[shown] = loads(path.read_text(encoding="utf-8"), shown)
    return Offered(env.name, values, outputs, frozenset(variables), frozenset(sensitive), files, output_keys)


def secret_reason(name: str, value: Any) -> str | None:
    return secretlike.reason(name, value)


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
                else:
                    for keyword, message in output_problems(mark, offer.output_keys.get(mark.head)):
                        add(keyword, message)
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
            line, column = _position(offer, value.source, name)
            found.append(
                Problem(value.source, line, column, pointer_of((name,)), "values:unused", message, env, WARNING)
            )
    return found + secrets_in_files(offer)


def output_problems(mark: Placeholder, keys: tuple[str, ...] | None) -> list[tuple[str, str]]:
    """A path into an output whose attributes the stack's HCL declares: `@@{database.hots}` (or
    `@@{databases.analytics.hots}`) fails now, not halfway through `env up`. The database contract's
    attributes are typed too."""
    from toolkit.terraform.outputs import DATABASE_FIELDS

    attribute = mark.name.split(".")[1] if "." in mark.name else None
    if attribute is None or keys is None:
        return []
    if attribute not in keys:
        close = difflib.get_close_matches(attribute, keys, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (it has {', '.join(keys)})"
        return [("values:unbound", f"@@{{{mark.name}}}: output {mark.head!r} has no attribute {attribute!r}{hint}")]
    parts = mark.name.split(".")
    if mark.head == "databases" and len(parts) == 3 and parts[2] not in DATABASE_FIELDS:
        close = difflib.get_close_matches(parts[2], DATABASE_FIELDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (it has {', '.join(DATABASE_FIELDS)})"
        return [("values:unbound", f"@@{{{mark.name}}}: database {attribute!r} has no attribute {parts[2]!r}{hint}")]
    if mark.head == "database" and len(parts) == 2:
        kinds = DATABASE_FIELDS.get(attribute, ())
    elif mark.head == "databases" and len(parts) == 3:  # databases.<name>.<attribute>
        kinds = DATABASE_FIELDS.get(parts[2], ())
    else:
        kinds = ()
    samples = [{str: "", int: 0, type(None): None}[kind] for kind in kinds]
    if samples and not any(type_matches(sample, mark.type) for sample in samples):
        wanted = "a string, number or boolean" if mark.type in ("scalar", "text") else mark.type
        given = " or ".join(describe(sample) for sample in samples)
        return [("values:type", f"@@{{{mark.name}}} wants {wanted}; the database output gives {given}")]
    return []


def secrets_in_files(offer: Offered) -> list[Problem]:
    """Values that look like secrets, in any var file, used or not: secrets never go in values files.
    (By value only: a variable declared `sensitive` may still be set in one, and is masked everywhere.)"""
    found = []
    for source, loaded in offer.files.items():
        for name, value in loaded.data.items() if loaded.ok and isinstance(loaded.data, dict) else ():
            if reason := secretlike.value_reason(value, name):
                message = f"{name!r}: {reason}; secrets never go in values files: keep it in Secrets Manager"
                problem = Problem(
                    source, *_position(offer, source, name), pointer_of((name,)), "values:secret", message
                )
                found.append(problem)
    return found


def _position(offer: Offered, source: str, name: str) -> tuple[int, int]:
    loaded = offer.files.get(source)
    return loaded.position(pointer_of((name,))) if loaded is not None and loaded.ok else (1, 1)


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
    if bad := unrepresentable(value.value):
        problems.append(("values:type", f"@@{{{mark.name}}}: {value.source} gives {bad}"))
    elif not type_matches(value.value, mark.type):
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
