"""docs/benchmarks.md and docs/benchmarks.json from one run's figures: tables, ratios, targets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import Figure


@dataclass
class Scenario:
    key: str
    title: str
    figures: list[Figure]
    reference: str = "toolkit"  # the figure ratios are taken against
    first_column: str = "tool"  # what each row is (a tool; the emulator lifecycle's rows are its steps)
    notes: list[str] = field(default_factory=list)

    def figure(self, tool: str) -> Figure | None:
        return next((f for f in self.figures if f.tool == tool), None)


@dataclass
class Target:
    claim: str
    met: bool | None  # None: not measured in this run
    evidence: str


def ratio(figure: Figure, reference: Figure) -> float:
    return figure.seconds / reference.seconds if reference.seconds else float("inf")


def table(scenario: Scenario) -> list[str]:
    reference = scenario.figure(scenario.reference)
    lines = [
        f"| {scenario.first_column} | median s | fastest–slowest s | runs | peak RSS MiB "
        f"| × {scenario.reference} | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for figure in scenario.figures:
        times = f"{ratio(figure, reference):.2f}" if reference else "–"
        low, high = figure.spread
        lines.append(
            f"| {figure.tool} | {figure.seconds:.3f} | {low:.3f}–{high:.3f} | {len(figure.runs)} "
            f"| {figure.peak_rss_mib:.0f} | {times} | {figure.note} |"
        )
    return lines


def write(
    md_path: Path,
    json_path: Path,
    *,
    header: dict[str, str],
    scenarios: list[Scenario],
    targets: list[Target],
    missing: list[tuple[str, str]],
    method: list[str],
) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/`); do not edit by hand. Every figure is the median of several runs",
        "of the whole command, measured in interleaved rounds with the tools it is compared with (each round",
        "runs every tool once, in turn), with the fastest and slowest run beside it; `× toolkit` is the",
        "tool's median divided by toolkit's (above 1: toolkit is faster).",
        "",
        *(f"- {key}: {value}" for key, value in header.items()),
        "",
        "## Targets",
        "",
        "| target | met | evidence |",
        "|---|---|---|",
        *(f"| {t.claim} | {_verdict(t.met)} | {t.evidence} |" for t in targets),
        "",
    ]
    for scenario in scenarios:
        lines += [f"## {scenario.title}", "", *table(scenario), ""]
        lines += [f"{note}" for note in scenario.notes]
        if scenario.notes:
            lines.append("")
    if missing:
        lines += ["## Peers and scenarios not measured here", ""]
        lines += [f"- {name}: {reason}" for name, reason in missing]
        lines.append("")
    lines += ["## Method and how to reproduce", "", *method, ""]
    md_path.write_text("\n".join(lines), encoding="utf-8")
    document = {
        "header": header,
        "targets": [t.__dict__ for t in targets],
        "missing": [{"tool": n, "reason": r} for n, r in missing],
        "scenarios": [
            {
                "key": s.key,
                "title": s.title,
                "reference": s.reference,
                "notes": s.notes,
                "figures": [
                    {
                        "tool": f.tool,
                        "median_seconds": round(f.seconds, 4),
                        "median_peak_rss_mib": round(f.peak_rss_mib, 1),
                        "note": f.note,
                        "runs": [
                            {"seconds": round(r.seconds, 4), "peak_rss_mib": round(r.peak_rss_mib, 1)} for r in f.runs
                        ],
                    }
                    for f in s.figures
                ],
            }
            for s in scenarios
        ],
    }
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _verdict(met: bool | None) -> str:
    return "yes" if met else "not measured" if met is None else "**no**"
