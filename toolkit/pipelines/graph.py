"""Mermaid diagrams of a state machine (stateDiagram-v2) or a Glue workflow (flowchart), for PRs and
job summaries, which render Mermaid."""

from __future__ import annotations

from typing import Any

from toolkit.errors import UsageError


def mermaid(kind: str, data: Any) -> str:
    if kind == "asl":
        return state_machine(data)
    if kind == "glue-workflow":
        return glue_workflow(data)
    raise UsageError(f"no graph for a {kind} pipeline", hint="graphs exist for asl and glue-workflow pipelines")


class _Ids:
    def __init__(self) -> None:
        self.ids: dict[tuple, str] = {}

    def __call__(self, key: tuple) -> str:
        return self.ids.setdefault(key, f"s{len(self.ids) + 1}")


def _label(text: str) -> str:
    return str(text).replace('"', "'").replace("\n", " ")


def state_machine(data: dict) -> str:
    ids = _Ids()
    lines = ["stateDiagram-v2"]
    _scope(data, (), ids, lines, "  ")
    return "\n".join(lines) + "\n"


def _scope(scope: dict, path: tuple, ids: _Ids, lines: list[str], pad: str) -> None:
    states = scope.get("States") or {}
    for name, state in states.items():
        sid = ids((*path, name))
        kind = state.get("Type", "?") if isinstance(state, dict) else "?"
        lines.append(f'{pad}state "{_label(name)} ({kind})" as {sid}')
        if not isinstance(state, dict):
            continue
        scopes = [(("Branches", i), b) for i, b in enumerate(state.get("Branches") or []) if isinstance(b, dict)]
        scopes += [((k,), state[k]) for k in ("ItemProcessor", "Iterator") if isinstance(state.get(k), dict)]
        if scopes:
            lines.append(f"{pad}state {sid} {{")
            for index, (key, inner) in enumerate(scopes):
                if index:
                    lines.append(f"{pad}  --")
                _scope(inner, (*path, name, *key), ids, lines, pad + "  ")
            lines.append(f"{pad}}}")
    start = scope.get("StartAt")
    if start in states:
        lines.append(f"{pad}[*] --> {ids((*path, start))}")
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        sid = ids((*path, name))

        def edge(target: Any, label: str = "", sid=sid) -> None:
            if target in states:
                lines.append(f"{pad}{sid} --> {ids((*path, target))}" + (f": {_label(label)}" if label else ""))

        edge(state.get("Next"))
        for rule in state.get("Choices") or []:
            if isinstance(rule, dict):
                edge(rule.get("Next"), _rule_label(rule))
        edge(state.get("Default"), "default")
        for catcher in state.get("Catch") or []:
            if isinstance(catcher, dict):
                edge(catcher.get("Next"), "catch " + ", ".join(map(str, catcher.get("ErrorEquals") or [])))
        if state.get("End") is True or state.get("Type") in ("Succeed", "Fail"):
            lines.append(f"{pad}{sid} --> [*]")


def _rule_label(rule: dict) -> str:
    if "Condition" in rule:
        return str(rule["Condition"])
    ops = [k for k in rule if k not in ("Next", "Variable", "Comment", "Assign", "Output")]
    if "Variable" in rule and ops:
        return f"{rule['Variable']} {ops[0]} {rule[ops[0]]}"
    return ops[0] if ops else "rule"


def glue_workflow(data: dict) -> str:
    lines = ["flowchart LR"]
    ids = _Ids()
    for trigger in data.get("Triggers") or []:
        if not isinstance(trigger, dict):
            continue
        tid = ids(("trigger", trigger.get("Name")))
        detail = trigger.get("Schedule") or trigger.get("Type", "")
        lines.append(f'  {tid}{{{{"{_label(trigger.get("Name"))}<br/>{_label(detail)}"}}}}')
        conditions = (trigger.get("Predicate") or {}).get("Conditions") or []
        for condition in conditions:
            source = _node(condition, ids, lines)
            if source:
                lines.append(f"  {source} -->|{_label(condition.get('State', condition.get('CrawlState', '')))}| {tid}")
        for action in trigger.get("Actions") or []:
            target = _node(action, ids, lines)
            if target:
                lines.append(f"  {tid} --> {target}")
    return "\n".join(dict.fromkeys(lines)) + "\n"  # a job named twice is one node


def _node(item: Any, ids: _Ids, lines: list[str]) -> str | None:
    if not isinstance(item, dict):
        return None
    if item.get("JobName"):
        nid = ids(("job", item["JobName"]))
        lines.append(f'  {nid}["job: {_label(item["JobName"])}"]')
        return nid
    if item.get("CrawlerName"):
        nid = ids(("crawler", item["CrawlerName"]))
        lines.append(f'  {nid}[("crawler: {_label(item["CrawlerName"])}")]')
        return nid
    return None
