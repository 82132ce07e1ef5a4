"""A reviewable summary of a saved plan, from `terraform show -json` only, with no secret in it.

Values are never copied from the plan: resources show which attributes change (names only), outputs
show their new value only when Terraform marks it neither sensitive nor unknown, and even then the
text passes through the secret mask. The raw plan JSON (which holds every variable's value in clear)
is never written anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolkit.support import masking

ACTIONS = ("create", "update", "replace", "delete")


@dataclass(frozen=True)
class ResourceChange:
    address: str
    action: str  # create | update | replace | delete | read | no-op
    changed_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: str
    shown: str  # the new value as text, "(sensitive)" or "(known after apply)"


@dataclass(frozen=True)
class PlanSummary:
    stack: str
    counts: dict[str, int]
    resources: tuple[ResourceChange, ...]
    outputs: tuple[OutputChange, ...] = field(default_factory=tuple)

    @property
    def has_changes(self) -> bool:
        return any(self.counts.values()) or any(o.action != "no-op" for o in self.outputs)

    @property
    def deletes(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.resources if r.action == "delete")

    @property
    def replaces(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.resources if r.action == "replace")


def action_of(actions: list[str]) -> str:
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    return actions[0] if len(actions) == 1 else "+".join(actions)


def _changed_attributes(before: Any, after: Any, after_unknown: Any) -> tuple[str, ...]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    unknown = after_unknown if isinstance(after_unknown, dict) else {}
    keys = set(before) | set(after) | {k for k, v in unknown.items() if v}
    return tuple(sorted(k for k in keys if before.get(k) != after.get(k) or unknown.get(k)))


def summarize(stack: str, plan: dict[str, Any]) -> PlanSummary:
    counts = dict.fromkeys(ACTIONS, 0)
    resources = []
    for change in plan.get("resource_changes") or []:
        if change.get("mode") == "data":
            continue
        body = change.get("change") or {}
        action = action_of(body.get("actions") or ["no-op"])
        if action in counts:
            counts[action] += 1
        if action in ("no-op", "read"):
            continue
        attributes = (
            ()
            if action == "delete"
            else _changed_attributes(body.get("before"), body.get("after"), body.get("after_unknown"))
        )
        resources.append(ResourceChange(change.get("address", "?"), action, attributes))
    outputs = []
    for name, body in sorted((plan.get("output_changes") or {}).items()):
        action = action_of(body.get("actions") or ["no-op"])
        if body.get("after_sensitive") or body.get("before_sensitive"):
            shown = "(sensitive)"
        elif body.get("after_unknown"):
            shown = "(known after apply)"
        else:
            shown = masking.mask(json.dumps(body.get("after"), sort_keys=True))
        outputs.append(OutputChange(name, action, shown))
    order = {a: i for i, a in enumerate(("delete", "replace", "update", "create"))}
    resources.sort(key=lambda r: (order.get(r.action, 9), r.address))
    return PlanSummary(stack, counts, tuple(resources), tuple(outputs))


def to_markdown(environment: str, summaries: list[PlanSummary], *, limit: int = 60000) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY or a PR comment, capped at `limit` characters."""
    lines = [f"## toolkit plan: `{environment}`", ""]
    lines += ["| stack | create | update | replace | delete |", "|---|---:|---:|---:|---:|"]
    for s in summaries:
        lines.append(f"| {s.stack} | " + " | ".join(str(s.counts[a]) for a in ACTIONS) + " |")
    for s in summaries:
        if s.deletes or s.replaces:
            lines += ["", f"**{s.stack}: destructive changes**", ""]
            lines += [f"- :warning: replace `{a}`" for a in s.replaces]
            lines += [f"- :x: delete `{a}`" for a in s.deletes]
        changed = [r for r in s.resources if r.action in ("create", "update")]
        if changed:
            lines += ["", f"<details><summary>{s.stack}: {len(changed)} created or updated</summary>", ""]
            lines += [
                f"- {r.action} `{r.address}`"
                + (f" ({', '.join(r.changed_attributes)})" if r.changed_attributes else "")
                for r in changed
            ]
            lines += ["", "</details>"]
        moved_outputs = [o for o in s.outputs if o.action != "no-op"]
        if moved_outputs:
            lines += [
                "",
                f"{s.stack} outputs: " + ", ".join(f"`{o.name}` {o.action} = {o.shown}" for o in moved_outputs),
            ]
    text = masking.mask("\n".join(lines) + "\n")
    if len(text) > limit:
        text = text[: limit - 80].rsplit("\n", 1)[0] + "\n\n_(summary cut to fit; see summary.json)_\n"
    return text
