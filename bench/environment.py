"""Whole-command scenarios: `toolkit --help` start-up, and a no-op `env up` of the reference local
environment next to a bare `terraform plan` of the same stacks, with the same engine, data directories
and values.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from bench.measure import Contender, Figure, interleaved, run_once

REPO = Path(__file__).resolve().parents[1]


def startup(peers: dict, toolkit_bin: str, rounds: int) -> list[Figure]:
    """`--help` of toolkit and its peers, and the interpreter floors toolkit's start-up sits on."""
    python = sys.executable
    commands = [
        ("toolkit --help", [toolkit_bin, "--help"]),
        ("toolkit --version", [toolkit_bin, "--version"]),
        ("toolkit --help (no cache: TOOLKIT_CACHE_DIR=off)", ["env", "TOOLKIT_CACHE_DIR=off", toolkit_bin, "--help"]),
        ("python -c pass (floor)", [python, "-c", "pass"]),
        ("python -c 'import boto3, psycopg2, rich' (eager imports)", [python, "-c", "import boto3, psycopg2, rich"]),
    ]
    for name in ("dbmate", "yoyo", "sqitch"):
        if peers[name].executable:
            commands.append((f"{name} --help", [peers[name].executable, "--help"]))
    # A page printed once is answered from the per-user cache (cli/shortcuts.py): one untimed run keeps it,
    # as any earlier `--help` with this toolkit does; the uncached figure shows what building the tree costs.
    run_once([toolkit_bin, "--help"])
    # More rounds than elsewhere: each run is short, so the median needs more of them to settle.
    return interleaved([Contender(name, lambda argv=argv: argv) for name, argv in commands], rounds * 5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_reference_project(folder: Path) -> Path:
    """The repository's reference project (local environment), on a free port of its own."""
    for part in ("terraform", "pipelines", "sql", "tfvars"):
        shutil.copytree(REPO / part, folder / part, ignore=shutil.ignore_patterns(".terraform", "*override.tf"))
    shutil.copy(REPO / "toolkit.toml", folder / "toolkit.toml")
    values = folder / "tfvars" / "local.tfvars.json"
    data = json.loads(values.read_text(encoding="utf-8"))
    data["db_port"] = _free_port()
    values.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return folder


def bare_plan_argv(project: Path, stack: str) -> tuple[list[str], dict[str, str]]:
    """`terraform plan` of one stack of the local environment as a user would type it after `init`."""
    from toolkit.terraform.engine import base_environment, resolve_engine

    engine = resolve_engine(None)
    env = base_environment({"TF_DATA_DIR": str(project / ".toolkit" / "local" / stack / "tfdata")})
    args = [
        f"-chdir={project / 'terraform' / 'local' / stack}",
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        f"-var-file={project / 'tfvars' / 'local.tfvars.json'}",
        "-var=environment=local",
    ]
    if stack == "pipelines":
        args += [
            f"-var=rendered_pipelines_dir={project / '.toolkit' / 'local' / 'rendered'}",
            f"-var=glue_scripts_dir={project / 'pipelines' / 'glue' / 'scripts'}",
        ]
    return engine.command(*args), env


def noop_env_up(work: Path, toolkit_bin: str, rounds: int) -> tuple[list[Figure], str]:
    """A no-op `env up local` and bare plans of its two stacks; the engine's description."""
    from toolkit.terraform.engine import resolve_engine

    project = copy_reference_project(work / "reference")
    env = {**os.environ, "CI": "true"}
    up = [toolkit_bin, "-q", "-C", str(project), "env", "up", "local"]
    subprocess.run(up, env=env, check=True, capture_output=True)
    try:
        contenders = [Contender("toolkit env up (no-op)", lambda: up, env=env)]
        for stack in ("infra", "pipelines"):
            argv, plan_env = bare_plan_argv(project, stack)
            contenders.append(Contender(f"terraform plan ({stack})", lambda argv=argv: argv, env=plan_env))
        figures = interleaved(contenders, rounds)
    finally:
        down = [toolkit_bin, "-q", "-C", str(project), "env", "down", "local"]
        subprocess.run(down, env=env, check=False, capture_output=True)
    return figures, resolve_engine(None).describe()
