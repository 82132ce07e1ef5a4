"""Two-phase bundles: a stack that reads an output an earlier stack's plan changes is planned after this
bundle is applied, never against a stale value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def unsettled_outputs(stack: str, plan: Mapping[str, Any], has_state: bool) -> dict[str, str]:
    """Outputs of `stack` whose value a later stack cannot use yet (name -> why), from its plan's JSON: every
    output of a stack with no state, and each output the plan changes or leaves unknown."""
    found = {}
    for name, body in (plan.get("output_changes") or {}).items():
        if not has_state:
            found[name] = f"stack {stack!r} has no state yet: it must be applied first"
        elif (body.get("actions") or ["no-op"]) != ["no-op"] or body.get("after_unknown"):
            found[name] = f"stack {stack!r}'s plan changes its output {name!r}"
    return found


def deferral(stack: str, reads: set[str], unsettled: Mapping[str, str], deferred: Mapping[str, str]) -> str | None:
    """Why `stack` cannot be planned in this bundle (it reads unsettled outputs, or follows a deferred
    stack), or None when it can."""
    if deferred:
        return f"it comes after stack {next(iter(deferred))!r}, which is planned after this bundle is applied"
    stale = sorted(reads & set(unsettled))
    if not stale:
        return None
    reasons = sorted({unsettled[name] for name in stale})
    return f"it reads {', '.join(stale)}: " + "; ".join(reasons)
