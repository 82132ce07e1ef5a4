"""Huge values in toolkit.toml get a clear error at once: a `[project] sql` of 300, 2,000, 100,000 and
10,000,000 characters. Each run is a child process under a CPU limit (RLIMIT_CPU), so a run that spins
fails by its signal rather than by a clock."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

CPU_SECONDS = 30  # generous: a run that does its work linearly needs well under one


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


@pytest.mark.parametrize(("length", "expected"), [
    (300, "cannot be used as a path: File name too long"),
    (2_000, "is 2000 characters long; at most 1024"),
    (100_000, "is 100000 characters long; at most 1024"),
    (10_000_000, "is 10000000 characters long; at most 1024"),
])  # fmt: skip
def test_a_huge_path_in_toolkit_toml_is_refused_at_once(tmp_path, length, expected, record_figure):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.tf").write_text('variable "environment" { type = string }\n')
    (tmp_path / "toolkit.toml").write_text(
        f'stacks = ["infra"]\n[project]\nsql = "{"a" * length}"\n'
        '[environments.local]\nstacks = { infra = "s" }\nbackend = { type = "local" }\nvar_files = []\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(tmp_path), "--plain", "db", "lint"],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        timeout=600,
    )
    assert done.returncode == 3, (done.returncode, done.stderr[-2000:])
    assert expected in done.stderr and "a" * 1025 not in done.stderr + done.stdout
    record_figure("sizes", "[project] sql of 300 to 10,000,000 characters: exit 3 naming the key, within the CPU limit")


def _toolkit(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", *args],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        timeout=600,
    )


def _var_file_project(tmp_path, text: str):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.tf").write_text(
        'variable "environment" { type = string }\nvariable "k7" { type = number }\n'
    )
    (tmp_path / "tfvars").mkdir()
    (tmp_path / "tfvars" / "local.tfvars.json").write_text(text)
    (tmp_path / "toolkit.toml").write_text(
        'stacks = ["infra"]\n[environments.local]\nstacks = { infra = "s" }\nbackend = { type = "local" }\n'
    )
    return tmp_path


def test_a_var_file_at_the_key_cap_is_checked_in_linear_time(tmp_path, record_figure):
    keys = {f"k{i}": i for i in range(2_000)}
    project = _var_file_project(tmp_path, json.dumps(keys, indent=1))
    done = _toolkit(project, "stacks", "check")
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    out = done.stdout + done.stderr
    assert "stacks check: 1999 finding(s)" in out, out[-2000:]
    # each finding still points at its own line (indent=1: key i is on line i + 2)
    assert "tfvars/local.tfvars.json:1502: environment 'local': 'k1500' is not a variable" in out


BIG_VAR_FILES = {
    "100,000 keys, indented": lambda: json.dumps({f"k{i}": i for i in range(100_000)}, indent=1),
    "10 MB of one string": lambda: json.dumps({"k7": "x" * 10_000_000}),
    "50,000 keys, compact": lambda: json.dumps({f"k{i}": i for i in range(50_000)}, separators=(",", ":")),
    "nested 400,000 deep": lambda: '{"k7":' + "[" * 400_000 + "]" * 400_000 + "}",
}
REFUSED_AS = {
    "100,000 keys, indented": "var file is {size} bytes long; at most 1048576 (1 MiB)",
    "10 MB of one string": "var file is {size} bytes long; at most 1048576 (1 MiB)",
    "50,000 keys, compact": "sets 50000 variables; at most 2000",
    "nested 400,000 deep": "nested too deeply",
}


@pytest.mark.parametrize("case", list(BIG_VAR_FILES))
@pytest.mark.parametrize("command", [("stacks", "check"), ("values", "local")])
def test_a_huge_var_file_is_refused_by_its_size(tmp_path, case, command, record_figure):
    text = BIG_VAR_FILES[case]()
    project = _var_file_project(tmp_path, text)
    done = _toolkit(project, *command)
    assert done.returncode == 3, (done.returncode, done.stderr[-2000:])
    expected = REFUSED_AS[case].format(size=len(text.encode()))
    assert "tfvars/local.tfvars.json: " + expected in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stdout + done.stderr) < 5_000
    record_figure(
        "sizes",
        "toolkit.toml sql of 300 to 10,000,000 characters; var files over 1 MiB, 2,000 keys or "
        "hundreds of levels deep: refused naming the file, within the CPU limit",
    )


def test_a_pipeline_file_over_1_mib_is_refused_by_its_size(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.tf").write_text('variable "environment" { type = string }\n')
    (tmp_path / "pipelines").mkdir()
    big = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "x" * 5_000_000, "End": True}}}
    size = (tmp_path / "pipelines" / "big.asl.json").write_text(json.dumps(big))
    (tmp_path / "pipelines" / "small.asl.json").write_text(json.dumps({"StartAt": "A", "States": {}}))
    (tmp_path / "toolkit.toml").write_text(
        'stacks = ["infra"]\n[environments.local]\nstacks = { infra = "s" }\nbackend = { type = "local" }\n'
        "var_files = []\n"
    )
    done = _toolkit(tmp_path, "pipelines", "validate")
    out = done.stdout + done.stderr
    assert done.returncode == 1, (done.returncode, out[-2000:])
    assert "big.asl.json:1:1" in out and f"pipeline file is {size} bytes long; at most 1048576 (1 MiB)" in out, out
    assert "small.asl.json" in out  # the other files are still checked
    assert "x" * 100 not in out
