"""Which of a refresh-only plan's `resource_drift` entries are changes made outside Terraform, read as
Terraform itself reports them under "Objects have changed outside of Terraform".

A refresh-only plan lists every resource whose refreshed object differs from the state in any way. With a
cloud provider most of those differences are the provider reading back attributes no configuration sets:
`tags` saved as null and read as `{}`, a security group's `ingress` filled by rules that are resources of
their own, a role's `inline_policy` by its `aws_iam_role_policy`, RDS's `latest_restorable_time`. They
reappear on every run, since a run whose plan is empty saves no refreshed state. Terraform shows a drifted
attribute only when the normal plan's changes or outputs depend on it (the plan's `relevant_attributes`);
so does this, and a resource removed outside Terraform always counts.
"""

from __future__ import annotations

from typing import Any

from toolkit.terraform.summary import action_of

_MISSING = object()


def outside_changes(refreshed: dict[str, Any], planned: dict[str, Any]) -> list[str]:
    """ "address: action" for each resource changed outside Terraform, sorted: the refresh-only plan
    `refreshed`, filtered by the relevant attributes of the normal plan `planned` ({} when it is empty)."""
    relevant: dict[str, list[list]] = {}
    for item in planned.get("relevant_attributes") or []:
        relevant.setdefault(item.get("resource", ""), []).append(list(item.get("attribute") or []))
    lines = []
    for change in refreshed.get("resource_drift") or []:
        address = change.get("address", "?")
        detail = change.get("change") or {}
        action = action_of(detail.get("actions") or ["update"])
        gone = detail.get("after") is None and detail.get("before") is not None
        paths = relevant.get(address, []) + relevant.get(address.split("[", 1)[0], [])  # the instance, or all
        if gone or any(not _same(_at(detail.get("before"), p), _at(detail.get("after"), p)) for p in paths):
            lines.append(f"{address}: {'delete' if gone else action}")
    return sorted(lines)


def _same(before: Any, after: Any) -> bool:
    """Equal, null and empty taken alike (the provider reads an unset map or list back as empty)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return all(_same(before.get(k), after.get(k)) for k in set(before) | set(after))
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(_same(b, a) for b, a in zip(before, after, strict=True))
    if before in (None, {}, [], "") and after in (None, {}, [], ""):
        return True
    return before == after


def _at(value: Any, path: list) -> Any:
    """The value at an attribute path (keys and list indices), or a marker where it does not exist."""
    for step in path:
        in_map = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value)
        if not (in_map or in_list):
            return _MISSING
        value = value[step]
    return value
