"""Huge values in toolkit.toml get a clear error at once: a `[project] sql` of 300, 2,000, 100,000 and
10,000,000 characters. Each run is a child process under a CPU limit (RLIMIT_CPU), so a run that spins
fails by its signal rather than by a clock."""

from __future__ import annotations

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


def test_a_var_file_with_100000_keys_is_checked_in_linear_time(tmp_path, record_figure):
    import json

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.tf").write_text(
        'variable "environment" { type = string }\nvariable "k7" { type = number }\n'
    )
    (tmp_path / "tfvars").mkdir()
    keys = {f"k{i}": i for i in range(100_000)}
    (tmp_path / "tfvars" / "local.tfvars.json").write_text(json.dumps(keys, indent=1))
    (tmp_path / "toolkit.toml").write_text(
        'stacks = ["infra"]\n[environments.local]\nstacks = { infra = "s" }\nbackend = { type = "local" }\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(tmp_path), "--plain", "stacks", "check"],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        timeout=600,
    )
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    out = done.stdout + done.stderr
    assert "stacks check: 99999 finding(s)" in out, out[-2000:]
    # each finding still points at its own line (indent=1: key i is on line i + 2)
    assert "tfvars/local.tfvars.json:50002: environment 'local': 'k50000' is not a variable" in out
    record_figure(
        "sizes", "toolkit.toml sql of 300 to 10,000,000 characters; a var file of 100,000 keys: within the CPU limit"
    )
