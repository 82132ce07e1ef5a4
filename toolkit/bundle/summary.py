"""What a reviewer reads: lint verdicts, and summary.md masked first, then capped to fit a PR comment."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from toolkit.support.masking import mask
from toolkit.terraform.summary import PlanSummary, to_markdown


def lint_verdict(findings: list) -> dict[str, Any]:
    """One migration's lint, for migrations.json and the summary: refused (an unallowed destructive change),
    not parsed (reported, never refused), warnings (findings of a rule whose severity is warning), allowed
    by annotation (in the file or toolkit.toml), or clean; with each finding."""
    if any(f.refused for f in findings):
        verdict = "refused"
    elif any(f.rule == "syntax" for f in findings):
        verdict = "not parsed"
    elif any(not f.allowed for f in findings):
        verdict = "warnings"
    elif findings:
        verdict = "allowed by annotation"
    else:
        verdict = "clean"
    return {"verdict": verdict, "findings": [str(f) for f in findings]}


SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
SUMMARY_LIMIT = 60000  # GitHub takes 65536 characters in a comment; leave room for a marker of our own


def summary_text(markdown: str, limit: int = SUMMARY_LIMIT) -> str:
    """summary.md: every secret masked first (a cut must never leave half a secret behind), then capped."""
    return cap_markdown(mask(markdown), limit)


def cap_markdown(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a line end with a visible marker. A cut inside a code fence (or an
    open <details>) closes it, so what follows the cut renders as text, not as part of a diff."""
    if len(text) <= limit:
        return text
    marker = f"\n_(summary cut at {{}} of {len(text)} characters; the bundle's JSON files hold everything)_\n"
    lines = text[:limit].split("\n")[:-1]
    while lines:
        fenced, details = False, 0
        for line in lines:
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced:
                details += line.count("<details>") - line.count("</details>")
        kept = "\n".join(lines)
        closing = ("\n```" if fenced else "") + "\n</details>" * max(details, 0)
        result = kept + closing + "\n" + marker.format(len(kept))
        if len(result) <= limit:
            return result
        lines.pop()
    return marker.format(0)[:limit]


def summary_markdown(
    environment: str,
    summaries: Sequence[PlanSummary],
    *,
    deferred: Mapping[str, str],
    lint: Mapping[str, dict],
    pipeline_changes: Mapping[str, dict],
) -> str:
    """summary.md: the plans, what is deferred to a second phase, the migrations to apply with their lint,
    the pipelines that change. Built uncut (to_markdown's own cap is lifted), then masked, then capped once."""
    markdown = to_markdown(environment, list(summaries), limit=1 << 62) + _deferred_markdown(deferred)
    if lint:
        markdown += "\n**migrations to apply:** " + ", ".join(
            f"`{s}` (lint: {lint[s]['verdict']})" for s in sorted(lint)
        )
        findings = [f for s in sorted(lint) for f in lint[s]["findings"]]
        markdown += "\n" + ("\n**lint:**\n" + "".join(f"- {f}\n" for f in findings) if findings else "")
    return summary_text(markdown + _pipelines_markdown(pipeline_changes))


def _deferred_markdown(deferred: Mapping[str, str]) -> str:
    if not deferred:
        return ""
    lines = ["", "**Phase 1 of 2.** Planned after this bundle is applied (plan again then, and review that too):", ""]
    lines += [f"- `{stack}`: {reason}" for stack, reason in deferred.items()]
    return "\n".join(lines) + "\n"


def _pipelines_markdown(changes: Mapping[str, dict]) -> str:
    if not changes:
        return ""
    lines = ["", "**pipelines:**", ""]
    for key, change in sorted(changes.items()):
        lines.append(f"- `{key}`: {change['state']}")
    for key, change in sorted(changes.items()):
        if change["diff"]:
            lines += [
                "",
                f"<details><summary>{key}</summary>",
                "",
                "```diff",
                *change["diff"][:200],
                "```",
                "",
                "</details>",
            ]
    return "\n".join(lines) + "\n"


def reviewed_summary_problems(
    folder: Path,
    environment: str,
    summaries: Sequence[PlanSummary],
    *,
    deferred: Mapping[str, str],
    migrations: Mapping[str, str],
    lint: Mapping[str, dict],
    pipelines: Mapping[str, str],
    pipeline_changes: Mapping[str, dict],
) -> list[str]:
    """The bundle's summary.json and summary.md against the same summaries made again from what the saved
    plans do (`summaries`, from `terraform show -json` of each) and the bundle's other files: a summary
    edited after review, or a plan swapped under it, is named. Both sides are masked with the secrets
    known now, so a secret registered only on one side cannot make them differ."""
    found = []
    try:
        reviewed = json.loads((folder / SUMMARY_JSON).read_text())
        reviewed_md = (folder / SUMMARY_MD).read_text()
    except (OSError, ValueError) as exc:
        return [f"the reviewed summary cannot be read: {exc}"]
    if not isinstance(reviewed, dict):
        return [f"{SUMMARY_JSON} is not a JSON object"]
    derived = {
        "environment": environment,
        "summaries": [asdict(s) for s in summaries],
        "migrations": sorted(migrations),
        "pipelines": dict(pipelines),
        "deferred": dict(deferred),
        "lint": dict(lint),
    }
    for key, value in derived.items():
        if _masked(reviewed.get(key)) != _masked(value):
            what = "what the saved plans do" if key == "summaries" else f"the bundle's {key}"
            found.append(f"{SUMMARY_JSON} ({key}) does not match {what}: {_AFTER_REVIEW}")
    again = summary_markdown(environment, summaries, deferred=deferred, lint=lint, pipeline_changes=pipeline_changes)
    if mask(reviewed_md) != mask(again):
        found.append(f"{SUMMARY_MD} does not match what the saved plans do: {_AFTER_REVIEW}")
    return found


_AFTER_REVIEW = "it was edited, or a plan swapped, after review"


def _masked(value: Any) -> str:
    return mask(json.dumps(value, sort_keys=True, default=str))
