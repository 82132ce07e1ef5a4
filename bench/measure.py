"""Timing and memory of one command: wall time and the child's own peak RSS, medians over rounds."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BenchError(RuntimeError):
    """A measured command failed: the benchmark would compare a failure with a success."""


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mib: float


@dataclass
class Figure:
    """One tool in one scenario: every round, and the medians the report shows."""

    tool: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_rss_mib(self) -> float:
        return statistics.median(r.peak_rss_mib for r in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        """The fastest and the slowest run: how far apart the rounds were."""
        times = [r.seconds for r in self.runs]
        return min(times), max(times)


GNU_TIME = Path("/usr/bin/time")


def run_once(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run argv to completion; its wall time and the peak RSS of that process (not its children).

    The peak RSS comes from GNU time (`%M`), which forks the command from its own small process: a
    command forked from this benchmark's Python would start with this process's resident size as its
    high-water mark (Linux keeps it across exec), so every tool would show at least the benchmark's own
    size. Without /usr/bin/time the figure is that inherited, unusable one and reads 0."""
    with tempfile.NamedTemporaryFile(prefix="bench-rss-", suffix=".txt") as rss_file:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss_file.name, "--", *argv] if GNU_TIME.exists() else list(argv)
        started = time.perf_counter()
        proc = subprocess.Popen(
            wrapped, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = proc.stdout.read() if proc.stdout else b""  # read first so a chatty child cannot block
        proc.wait()
        seconds = time.perf_counter() - started
        if proc.stdout:
            proc.stdout.close()
        if proc.returncode != 0:
            tail = output.decode("utf-8", "replace")[-2000:]
            raise BenchError(f"{' '.join(argv[:4])} ... exited {proc.returncode}:\n{tail}")
        lines = Path(rss_file.name).read_text().split() if GNU_TIME.exists() else []
    kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return Run(seconds=seconds, peak_rss_mib=kib / 1024)


def measure(
    tool: str,
    rounds: int,
    command: Callable[[], Sequence[str]],
    *,
    before: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    note: str = "",
) -> Figure:
    """`rounds` runs of command(); before() (untimed) resets the state each run starts from."""
    figure = Figure(tool=tool, note=note)
    for _ in range(rounds):
        if before is not None:
            before()
        figure.runs.append(run_once(command(), env=env, cwd=cwd))
    return figure


@dataclass
class Contender:
    """One tool in an interleaved comparison: how to run it, and what to reset (untimed) before each run."""

    name: str
    command: Callable[[], Sequence[str]]
    env: dict[str, str] | None = None
    before: Callable[[], None] | None = None
    note: str = ""
    cwd: Path | None = None


def interleaved(contenders: Sequence[Contender], rounds: int, *, slow_after: float | None = None) -> list[Figure]:
    """`rounds` rounds of every contender in turn (A, B, C, A, B, C, …), so a change in the machine's load
    hits them all alike rather than whichever tool happened to be measured then. A contender whose first
    run takes longer than `slow_after` seconds runs only that once (noted), so one slow peer does not make
    the whole benchmark take an hour."""
    figures = [Figure(tool=c.name, note=c.note) for c in contenders]
    for round_ in range(rounds):
        for contender, figure in zip(contenders, figures, strict=True):
            if round_ and slow_after is not None and figure.runs[0].seconds > slow_after:
                continue
            if contender.before is not None:
                contender.before()
            figure.runs.append(run_once(contender.command(), env=contender.env, cwd=contender.cwd))
    for figure in figures:
        if slow_after is not None and rounds > 1 and len(figure.runs) == 1:
            figure.note = "; ".join(n for n in (figure.note, f"1 run: over {slow_after:.0f} s each") if n)
    return figures
