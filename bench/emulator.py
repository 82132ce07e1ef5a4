"""The emulated AWS lifecycle's duration: `env up` from nothing, a no-op `env up` and `env down` of an
ephemeral environment on toolkit's own emulator (`--emulator`), with copies of the real `terraform/aws`
stacks and the AWS provider from a filesystem mirror, as tests/integration/commands/test_emulator_lifecycle.py
runs them (the mirror found the same way; the provider constraint relaxed to the mirror's in the copy).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from bench.measure import Figure, run_once

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("TOOLKIT_TEST_AWS_PROVIDER_MIRROR", "/opt/tf-plugins"))
ENV = "pr-990"
STEPS = ("env up (cold)", "env up (no-op)", "env down")
NOTE = (
    "One ephemeral environment on toolkit's moto: both AWS stacks (39 and 33 resources in state), the AWS "
    "provider from the mirror, a stand-in PostgreSQL per RDS instance; each round starts the emulator, "
    "`init`s both stacks from the mirror and ends with `emulator stop`. About 80 s of the cold `env up` and "
    "of `env down` is the provider's RDS waiters, not toolkit or moto: after CreateDBInstance and after "
    "DeleteDBInstance the provider sleeps 60 s before its first poll, then wants three answers 10 s apart, "
    "whatever the emulator answers (once per apply: the two instances are created in parallel; "
    "docs/emulator.md). Most of the rest, and of the no-op `env up`, is Terraform starting the ~700 MB "
    "provider and loading its schema for every `plan` and `apply`, and refreshing every resource "
    "through the emulator. Peak RSS is the largest of toolkit and the Terraform processes it waited for."
)


def unavailable() -> str | None:
    """Why the scenario cannot run here, or None."""
    if shutil.which("terraform") is None:
        return "not run: needs terraform on PATH"
    if not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return f"not run: needs an AWS provider mirror at {MIRROR} (TOOLKIT_TEST_AWS_PROVIDER_MIRROR)"
    return None


def copy_project(root: Path) -> Path:
    """The reference project, its AWS stacks asking for the mirror's provider, committed (as the test's)."""
    root.mkdir(parents=True)
    for name in ("toolkit.toml", "sql", "pipelines", "tfvars", "terraform", ".gitignore"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns(".terraform*", "zz_*"))
        else:
            shutil.copy(source, root / name)
    for versions in (root / "terraform" / "aws").glob("*/versions.tf"):
        versions.write_text(re.sub(r'version = "~> 6\.0"', 'version = ">= 5.100"', versions.read_text()))
    config = root / "toolkit.toml"
    config.write_text(config.read_text().replace('engine = "auto"', 'engine = "terraform"'))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=root, check=True)
    return root


def run(work: Path, toolkit_bin: str, rounds: int) -> tuple[list[Figure], str | None]:
    """(the three steps' figures, None), or ([], why not) where terraform or the mirror is absent."""
    reason = unavailable()
    if reason:
        return [], reason
    project = copy_project(work / "emulator")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"CI": "true", "TOOLKIT_PROVIDER_MIRROR": str(MIRROR)})
    base = [toolkit_bin, "-C", str(project), "--plain"]
    commands = (["env", "up", ENV, "--emulator"], ["env", "up", ENV, "--emulator"], ["env", "down", ENV, "--emulator"])
    figures = [Figure(tool=step) for step in STEPS]
    try:
        for _ in range(rounds):
            for figure, args in zip(figures, commands, strict=True):
                figure.runs.append(run_once([*base, *args], env=env))
            subprocess.run([*base, "emulator", "stop"], env=env, check=True, capture_output=True)
    except BaseException:  # a failed step: take down what it left (stand-ins included), then the emulator
        subprocess.run([*base, "env", "down", ENV, "--emulator"], env=env, capture_output=True)
        subprocess.run([*base, "emulator", "stop"], env=env, capture_output=True)
        raise
    return figures, None
