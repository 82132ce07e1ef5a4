"""Benchmark: validate 1,000 pipeline files (a mix of every kind) and report files per second.

    .venv/bin/python bench/bench_pipelines.py [--files 1000] [--rounds 3]

Files are copies of the examples in pipelines/ with changed names and a few changed values, written to
a temporary folder. The first round includes one-time costs (compiling schemas, loading botocore's
models); later rounds show the steady state. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from toolkit.pipelines.validate import validate_folder

REPO = Path(__file__).resolve().parents[1]


def generate(folder: Path, count: int) -> None:
    examples = sorted((REPO / "pipelines").rglob("*.json"))
    for index in range(count):
        source = examples[index % len(examples)]
        data = json.loads(source.read_text(encoding="utf-8"))
        if "Comment" in data:
            data["Comment"] = f"copy {index}"
        if "Description" in data:
            data["Description"] = f"copy {index}"
        name = source.name.split(".", 1)
        (folder / f"{name[0]}_{index:04d}.{name[1]}").write_text(json.dumps(data, indent=2), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, args.files)
        for round_number in range(1, args.rounds + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            report = validate_folder(folder)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            label = "cold" if round_number == 1 else "warm"
            print(
                f"round {round_number} ({label}): {report.files} files, {len(report.errors)} error(s) in "
                f"{wall:.3f}s wall, {cpu:.3f}s CPU -> {report.files / wall:,.0f} files/s"
            )


if __name__ == "__main__":
    main()
