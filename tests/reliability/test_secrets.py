"""Secrets never leak: a full `env up` (infra + pipelines stacks, embedded PostgreSQL) with a distinctive
database password, then every command that reads the environment; and a plan bundle of a stack with a
distinctive sensitive variable. No output, log, rendered file, summary or temp file holds either value.

Two kinds of file hold secrets by design and are not scanned: the password file itself (the local
environment's 0600 password store) and Terraform's state and saved plans (`*.tfstate*`, `*.tfplan`),
which Terraform keeps whole; README says to treat them as protected.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest

from tests.projects import write_s3_project

pytestmark = pytest.mark.slow

PASSWORD = "Canary-Pw-7Q2xLr9Zt4"  # distinctive: no other file has a reason to contain it
TOKEN = "Canary-Tok-5Hn8Wd3Kp1"
BY_DESIGN = (".tfstate", ".tfstate.backup", ".tfplan")


def run(project: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """The real CLI in a child process with its own temp folder, so every temp file it makes is ours to scan."""
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", "-v", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true", "TMPDIR": str(tmp)},
        timeout=300,
    )


def leaks(folder: Path, needle: str, skip: tuple[Path, ...] = ()) -> tuple[list[str], int]:
    """Files under `folder` whose bytes contain `needle` (binary files too); and how many were read."""
    found, scanned = [], 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink() or path in skip or path.name.endswith(BY_DESIGN):
            continue
        try:
            data = path.read_bytes()
        except OSError:  # e.g. a server's private file owned by another user
            continue
        scanned += 1
        if needle.encode() in data:
            found.append(str(path))
    return found, scanned


@pytest.fixture
def tmp_dir():
    path = Path(tempfile.mkdtemp(prefix="tk-sec-"))  # short: the embedded server's socket lives here
    path.chmod(0o1777)  # like /tmp: the server runs as an unprivileged user when the tests run as root
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_full_env_up_leaks_the_database_password_nowhere(full_local_project, tmp_dir, record_figure):
    import tomllib

    project = full_local_project

    state_dir = Path(tomllib.loads((project / "toolkit.toml").read_text())["project"]["state_dir"])
    password_file = project / ".toolkit" / "local" / "postgres" / "password"
    password_file.parent.mkdir(parents=True)
    password_file.touch(mode=0o600)
    password_file.write_text(PASSWORD + "\n")
    bundle = tmp_dir / "bundle"
    outputs: list[tuple[str, subprocess.CompletedProcess]] = []
    files, scanned = [], 0
    try:
        commands = [
            ("env", "up", "local"),
            ("env", "up", "local"),  # the no-op run
            ("env", "status", "local"),
            ("db", "status", "local", "--json"),
            ("db", "migrate", "local", "--dry-run"),
            ("values", "local", "--json"),
            ("pipelines", "render", "local"),
            ("plan", "local", "--out", str(bundle)),
        ]
        for args in commands:
            result = run(project, tmp_dir, *args)
            outputs.append((" ".join(args), result))
            assert result.returncode in (0, 2), result.stdout + result.stderr  # plan: 2 = changes pending
            assert "Traceback" not in result.stderr
        assert outputs[0][1].returncode == 0
        # The database really uses the distinctive password, so the scan below means something
        port = json.loads((project / "tfvars/local.tfvars.json").read_text())["db_port"]
        psycopg2.connect(host="127.0.0.1", port=port, dbname="demo", user="demo_app", password=PASSWORD).close()
        assert any(p.is_file() for p in (state_dir / "local" / "rendered").rglob("*")), "nothing rendered"
        assert (bundle / "summary.md").is_file()
        # Everything on disk while the environment is up: the database's files and log included.
        # (The scan does find the value where it is: in the password file, which is skipped below.)
        assert leaks(password_file.parent, PASSWORD)[0] == [str(password_file)]
        for folder in (project, state_dir, tmp_dir):
            found, count = leaks(folder, PASSWORD, skip=(password_file,))
            files += found
            scanned += count
    finally:
        down = run(project, tmp_dir, "env", "down", "local")
        outputs.append(("env down local", down))
    in_output = [name for name, r in outputs if PASSWORD in r.stdout or PASSWORD in r.stderr]
    record_figure(
        "secrets (env up)",
        f"{len(outputs)} commands' stdout/stderr and {scanned} files (project, state dir with the database's "
        f"files and log, rendered pipelines, plan bundle, temp folder) scanned: "
        f"{len(in_output) + len(files)} hold the password",
    )
    assert down.returncode == 0, down.stdout + down.stderr
    assert not in_output, in_output
    assert not files, files


def test_plan_bundle_and_outputs_leak_no_sensitive_variable(tmp_path, moto_endpoint, database, tmp_dir, record_figure):
    from toolkit.adapters.aws.state_bucket import bootstrap_state_bucket

    bucket = f"state-{uuid.uuid4().hex[:10]}"
    bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint)
    project = write_s3_project(tmp_path / "s3", endpoint=moto_endpoint, bucket=bucket, database=database, secret=TOKEN)
    bundle = tmp_dir / "bundle"
    outputs = []
    for args in (
        ("env", "create", "dev"),
        ("plan", "dev", "--out", str(bundle), "--json"),
        ("apply", "dev", "--plan", str(bundle)),
        ("values", "dev", "--json"),
        ("env", "up", "pr-4"),
        ("env", "list", "--json"),
    ):
        result = run(project, tmp_dir, *args)
        outputs.append((" ".join(args), result))
        assert result.returncode == 0, result.stdout + result.stderr
    assert (bundle / "summary.md").is_file() and any(bundle.glob("*.tfplan"))
    in_output = [name for name, r in outputs if TOKEN in r.stdout or TOKEN in r.stderr]
    password_file = project / "db-password"  # holds the database password, not the token
    var_file = project / "tfvars" / "common.tfvars.json"  # where the user put the token: by design
    files, scanned = [], 0
    for folder in (project, tmp_dir):
        found, count = leaks(folder, TOKEN, skip=(password_file, var_file))
        files += found
        scanned += count
    record_figure(
        "secrets (plan bundle)",
        f"{len(outputs)} commands' stdout/stderr and {scanned} files (bundle summaries and manifest, project, "
        f"temp folder; *.tfplan and state excluded by design) scanned: {len(in_output) + len(files)} hold the token",
    )
    assert not in_output, in_output
    assert not files, files
