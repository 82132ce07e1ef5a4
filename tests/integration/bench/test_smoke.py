"""The benchmark harness itself, on a tiny scale with no peers: it must keep running as toolkit changes,
since `make bench` is run by hand and rarely. Figures are not asserted: this is not a benchmark."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.projects import REPO

pytestmark = pytest.mark.slow


def test_bench_runs_toolkit_against_the_psql_floor_and_writes_both_reports(tmp_path):
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    argv = [sys.executable, "-m", "bench", "--no-peers", "--only", "migrations,startup", "--sizes", "5,20"]
    argv += ["--rounds", "1", "--out-md", str(md), "--out-json", str(js)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    report = json.loads(js.read_text())
    scenarios = {s["key"]: s for s in report["scenarios"]}
    assert set(scenarios) == {"apply-5", "apply-20", "noop-20", "startup"}
    assert [f["tool"] for f in scenarios["apply-20"]["figures"]] == ["toolkit", "psql (floor)"]
    assert [f["tool"] for f in scenarios["noop-20"]["figures"]] == ["toolkit", "toolkit --no-cache"]
    assert all(f["median_seconds"] > 0 for s in report["scenarios"] for f in s["figures"])
    claims = {t["claim"] for t in report["targets"]}
    assert "apply 20 migrations: ≤ 1.25× the psql floor, ahead of every peer" in claims
    assert any(c.startswith("memory flat in the number of migrations") for c in claims)
    assert any(c.startswith("no-op `db migrate`, 20 applied") for c in claims)
    assert "`toolkit --version`: ≤ 1.5× `python -c pass` + 50 ms" in claims
    assert "fastest–slowest s" in md.read_text()
    assert {m["tool"] for m in report["missing"]} == {"dbmate", "yoyo", "sqitch"}
    text = md.read_text()
    assert "## Apply 20 migrations to an empty database" in text and "| toolkit |" in text


def test_bench_mysql_scenario_runs_toolkit_against_the_mariadb_client(tmp_path):
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    argv = [sys.executable, "-m", "bench", "--no-peers", "--only", "mysql", "--sizes", "20", "--rounds", "1"]
    argv += ["--out-md", str(md), "--out-json", str(js)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    scenarios = {s["key"]: s for s in json.loads(js.read_text())["scenarios"]}
    assert [f["tool"] for f in scenarios["mysql-apply-20"]["figures"]] == ["toolkit", "mariadb client (floor)"]
    assert "## Apply 20 migrations to an empty MySQL (MariaDB 10.11) database" in md.read_text()
