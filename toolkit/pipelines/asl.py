"""Step Functions (Amazon States Language) checks the schema cannot express.

Transitions stay inside their scope (a Parallel branch or Map processor cannot jump out), every state
is reachable and can reach an end, names are unique in the whole machine, mutually exclusive fields,
Choice rules, and the JSONPath versus JSONata split (paths, payload templates, `{% … %}` syntax).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from toolkit.pipelines import placeholders
from toolkit.pipelines.asl_fields import FieldChecks
from toolkit.pipelines.asl_paths import looks_like_jsonata
from toolkit.pipelines.asl_rules import check_rule, is_timestamp
from toolkit.pipelines.problems import Problem, pointer_of

MAX_NAME = 80
FLOWING = {"Pass", "Task", "Wait", "Parallel", "Map"}
EXCLUSIVE = [
    ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"),
    ("TimeoutSeconds", "TimeoutSecondsPath"),
    ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ("Items", "ItemsPath"),
    ("Iterator", "ItemProcessor"),
    ("Error", "ErrorPath"),
    ("Cause", "CausePath"),
    ("ToleratedFailureCount", "ToleratedFailureCountPath"),
    ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
    ("MaxConcurrency", "MaxConcurrencyPath"),
    ("MaxItemsPerBatch", "MaxItemsPerBatchPath"),
    ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"),
    ("MaxItems", "MaxItemsPath"),
    ("Parameters", "Arguments"),
    ("Parameters", "ItemSelector"),  # a Map's older and newer name for the same thing
]
_LAMBDA = re.compile(r"\Aarn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:[^:]+(?::(?P<qualifier>.*))?\Z")
_QUALIFIER = re.compile(r"\A(?:\$LATEST|[A-Za-z0-9_-]+)\Z")
_ARN = re.compile(r"\Aarn:[^:]+:[^:]+:")
_SUBSTITUTION = re.compile(r"\$\{[^{}]+\}")


def check(data: Any, file: str) -> list[Problem]:
    if not isinstance(data, dict) or not isinstance(data.get("States"), dict):
        return []  # the schema already said what is missing
    top = data.get("QueryLanguage", "JSONPath")
    machine = _Machine(file, top if top in ("JSONPath", "JSONata") else "JSONPath")
    machine.everywhere = set(_names(data))
    machine.scope(data, ())
    machine.unique_names()
    return machine.problems


def _names(scope: Any):
    states = scope.get("States") if isinstance(scope, dict) else None
    for name, state in (states or {}).items() if isinstance(states, dict) else ():
        yield name
        if isinstance(state, dict):
            for inner in [*(state.get("Branches") or []), state.get("Iterator"), state.get("ItemProcessor")]:
                yield from _names(inner)


class _Machine(FieldChecks):
    def __init__(self, file: str, language: str) -> None:
        self.file = file
        self.language = language  # the machine's; a state may switch itself to JSONata, nested ones inherit this
        self.problems: list[Problem] = []
        self.names: list[tuple[str, tuple]] = []
        self.everywhere: set[str] = set()  # every state name in the machine, any scope

    def add(self, path: tuple, keyword: str, message: str) -> None:
        self.problems.append(Problem(self.file, 0, 0, pointer_of(path), keyword, message))

    def unique_names(self) -> None:
        counts = Counter(name for name, _ in self.names)
        for name, path in self.names:
            if counts[name] > 1:
                self.add(
                    path,
                    "asl:unique-name",
                    f"state name {name!r} is used {counts[name]} times in the machine",
                )

    def scope(self, scope: dict, path: tuple, child_machine: bool = False) -> None:
        """One scope of states; `child_machine`: a distributed Map's processor, run as its own machine."""
        states = scope.get("States")
        if not isinstance(states, dict):
            return
        start = scope.get("StartAt")
        if isinstance(start, str) and start not in states:
            self.add((*path, "StartAt"), "asl:target", self._missing("StartAt", start))
        edges: dict[str, list[str]] = {}
        for name, state in states.items():
            where = (*path, "States", name)
            self.names.append((name, where))
            if not name:
                self.add(where, "asl:state-name", "a state name cannot be empty")
            if len(name) > MAX_NAME:
                self.add(where, "asl:state-name", f"state name is {len(name)} characters; at most {MAX_NAME}")
            if not isinstance(state, dict):
                continue
            own = state.get("QueryLanguage", self.language)
            if self.language == "JSONata" and own == "JSONPath" and not child_machine:
                self.add((*where, "QueryLanguage"), "asl:query-language",
                         "a state cannot use JSONPath when the machine uses JSONata")  # fmt: skip
            edges[name] = self.transitions(state, where, states)
            self.state(state, where, own if own in ("JSONPath", "JSONata") else self.language)
        self.flow(states, start, edges, path)

    def _missing(self, field: str, target: str) -> str:
        outside = target in self.everywhere
        hint = "; a Parallel branch or Map processor cannot jump out of its scope" if outside else ""
        return f"{field} {target!r} is not a state in this scope{hint}"

    def transitions(self, state: dict, where: tuple, states: dict) -> list[str]:
        targets: list[tuple[tuple, str, str]] = []
        kind = state.get("Type")
        if "Next" in state and state.get("End") is True:
            self.add(where, "asl:next-or-end", "Next and End are mutually exclusive")
        elif kind in FLOWING and "Next" not in state and state.get("End") is not True:
            self.add(where, "asl:next-or-end", f'a {kind} state needs Next or "End": true')
        if isinstance(state.get("Next"), str):
            targets.append(((*where, "Next"), "Next", state["Next"]))
        if isinstance(state.get("Default"), str):
            targets.append(((*where, "Default"), "Default", state["Default"]))
        for index, rule in enumerate(state.get("Choices") or []):
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                targets.append(((*where, "Choices", index, "Next"), "Next", rule["Next"]))
        for index, catcher in enumerate(state.get("Catch") or []):
            if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
                targets.append(((*where, "Catch", index, "Next"), "Next", catcher["Next"]))
        for path, field, target in targets:
            if target not in states:
                self.add(path, "asl:target", self._missing(field, target))
        return [target for _, _, target in targets if target in states]

    def flow(self, states: dict, start: Any, edges: dict[str, list[str]], path: tuple) -> None:
        reached: set[str] = set()
        todo = [start] if start in states else []
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo.extend(edges.get(name, ()))
        for name in states:
            if name not in reached and start in states:
                self.add((*path, "States", name), "asl:reachable", f"state {name!r} is unreachable from StartAt")
        ends = {
            name
            for name, state in states.items()
            if isinstance(state, dict) and (state.get("End") is True or state.get("Type") in ("Succeed", "Fail"))
        }
        incoming: dict[str, set[str]] = {}
        for name, targets in edges.items():
            for target in targets:
                incoming.setdefault(target, set()).add(name)
        can_end, todo = set(ends), list(ends)
        while todo:
            for source in incoming.get(todo.pop(), ()):
                if source not in can_end:
                    can_end.add(source)
                    todo.append(source)
        for name in states:
            if name in reached and name not in can_end:
                message = 'no path from this state reaches an end ("End": true, Succeed or Fail)'
                self.add((*path, "States", name), "asl:can-end", message)

    def state(self, state: dict, where: tuple, language: str) -> None:
        self.exclusive(state, where)
        kind = state.get("Type")
        if kind == "Wait" and not any(f in state for f in EXCLUSIVE[0]):
            self.add(where, "asl:required-one", "a Wait state needs one of " + ", ".join(EXCLUSIVE[0]))
        if kind == "Map" and not ("Iterator" in state or "ItemProcessor" in state):
            self.add(where, "asl:required-one", "a Map state needs ItemProcessor (or the older Iterator)")
        if kind == "Task":
            self.resource(state.get("Resource"), (*where, "Resource"))
        heartbeat, timeout = state.get("HeartbeatSeconds"), state.get("TimeoutSeconds")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (heartbeat, timeout)) and heartbeat >= timeout:
            self.add((*where, "HeartbeatSeconds"), "asl:timeout",
                     f"HeartbeatSeconds ({heartbeat}) must be less than TimeoutSeconds ({timeout})")  # fmt: skip
        if kind == "Wait" and isinstance(state.get("Timestamp"), str):
            self.timestamp(state["Timestamp"], (*where, "Timestamp"), language)
        for key in ("Retry", "Catch"):
            if isinstance(state.get(key), list):
                self.error_equals(state[key], (*where, key))
        for key in ("ItemBatcher", "ItemReader"):
            if isinstance(state.get(key), dict):
                self.exclusive(state[key], (*where, key))
                config = state[key].get("ReaderConfig")
                if isinstance(config, dict):
                    self.exclusive(config, (*where, key, "ReaderConfig"))
        for index, rule in enumerate(state.get("Choices") or [] if kind == "Choice" else []):
            check_rule(rule, (*where, "Choices", index), self.add, top=True, language=language)
        if language == "JSONata":
            self.jsonata_state(state, where)
        else:
            self.jsonpath_state(state, where)
        for index, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                self.scope(branch, (*where, "Branches", index))
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                config = state[key].get("ProcessorConfig")
                distributed = isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED"
                self.scope(state[key], (*where, key), child_machine=distributed)

    def timestamp(self, value: str, where: tuple, language: str) -> None:
        if placeholders.contains(value) or (language == "JSONata" and looks_like_jsonata(value)):
            return
        if not is_timestamp(value):
            message = f"{value!r} is not an RFC 3339 timestamp such as 2026-03-14T01:59:00Z"
            self.add(where, "asl:timestamp", message)

    def error_equals(self, handlers: list, where: tuple) -> None:
        """States.ALL matches every error: alone in its ErrorEquals, and in the last retrier or catcher."""
        for index, handler in enumerate(handlers):
            errors = handler.get("ErrorEquals") if isinstance(handler, dict) else None
            if not isinstance(errors, list) or "States.ALL" not in errors:
                continue
            path = (*where, index, "ErrorEquals")
            if len(errors) > 1:
                self.add(path, "asl:error-equals", "States.ALL must be the only error in its ErrorEquals")
            if index != len(handlers) - 1:
                kind = "retrier" if where[-1] == "Retry" else "catcher"
                self.add(path, "asl:error-equals", f"a {kind} with States.ALL must be the last one")

    def exclusive(self, obj: dict, where: tuple) -> None:
        for group in EXCLUSIVE:
            present = [field for field in group if field in obj]
            if len(present) > 1:
                self.add((*where, present[1]), "asl:mutually-exclusive",
                         f"{' and '.join(present)} are mutually exclusive")  # fmt: skip

    def resource(self, resource: Any, where: tuple) -> None:
        if not isinstance(resource, str) or placeholders.contains(resource):
            return
        if "${" in resource:
            if "${" in _SUBSTITUTION.sub("", resource):
                self.add(where, "asl:resource", "unclosed ${...} definition substitution")
            return
        if not _ARN.match(resource):
            self.add(where, "asl:resource", "Resource must be an ARN (arn:partition:service:...)")
            return
        lam = _LAMBDA.match(resource)
        if lam and lam.group("qualifier") is not None and not _QUALIFIER.match(lam.group("qualifier")):
            self.add(where, "asl:resource", f"{lam.group('qualifier')!r} is not a Lambda version or alias")
