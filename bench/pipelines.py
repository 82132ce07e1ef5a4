"""Pipeline scenario: validate 1,000 Step Functions definitions with toolkit and with asl-validator.

The files are generated Amazon States Language state machines (Task, Choice, Parallel, Map, Wait,
Pass, Fail, Succeed, retries and catchers), each a little different, no placeholders, so both tools
check exactly the same documents. Both run as their command-line tools, once per round over all files.
toolkit is measured twice: as a project's next run finds it (each file's verdict kept by an earlier run,
pipelines/verdicts.py) and with `--no-cache` (every file parsed and checked again).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.measure import Contender, Figure, interleaved, run_once

COLD = "toolkit --no-cache"


def state_machine(n: int) -> dict:
    """A plausible ETL state machine, varied by n."""
    task = "arn:aws:states:::glue:startJobRun.sync"
    return {
        "Comment": f"generated ETL number {n}",
        "StartAt": "Extract",
        "States": {
            "Extract": {
                "Type": "Task",
                "Resource": task,
                "Parameters": {"JobName": f"extract-{n}", "Arguments": {"--day.$": "$.day"}},
                "ResultPath": "$.extract",
                "Retry": [{"ErrorEquals": ["Glue.AWSGlueException"], "IntervalSeconds": 5, "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                "Next": "HasRows",
            },
            "HasRows": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.extract.rows", "NumericGreaterThan": n % 7, "Next": "Transform"},
                    {
                        "And": [
                            {"Variable": "$.extract.rows", "NumericEquals": 0},
                            {"Variable": "$.force", "BooleanEquals": True},
                        ],
                        "Next": "Transform",
                    },
                ],
                "Default": "Nothing",
            },
            "Transform": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Clean",
                        "States": {
                            "Clean": {
                                "Type": "Task",
                                "Resource": task,
                                "Parameters": {"JobName": f"clean-{n}"},
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Enrich",
                        "States": {
                            "Enrich": {
                                "Type": "Map",
                                "ItemsPath": "$.extract.partitions",
                                "MaxConcurrency": 1 + n % 5,
                                "ItemProcessor": {
                                    "ProcessorConfig": {"Mode": "INLINE"},
                                    "StartAt": "EnrichOne",
                                    "States": {"EnrichOne": {"Type": "Pass", "End": True}},
                                },
                                "End": True,
                            }
                        },
                    },
                ],
                "ResultPath": "$.transform",
                "Next": "Settle",
            },
            "Settle": {"Type": "Wait", "Seconds": 1 + n % 30, "Next": "Load"},
            "Load": {
                "Type": "Task",
                "Resource": task,
                "Parameters": {"JobName": f"load-{n}"},
                "TimeoutSeconds": 3600,
                "End": True,
            },
            "Nothing": {"Type": "Succeed"},
            "Failed": {"Type": "Fail", "Error": "EtlFailed", "Cause": f"ETL {n} failed"},
        },
    }


def write_project(folder: Path, count: int) -> list[Path]:
    """A toolkit project whose pipelines folder holds `count` state machines; the files' paths."""
    pipelines = folder / "pipelines" / "stepfunctions"
    pipelines.mkdir(parents=True)
    paths = []
    for n in range(count):
        path = pipelines / f"etl_{n:04d}.asl.json"
        path.write_text(json.dumps(state_machine(n), indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    stack = folder / "terraform" / "infra"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text('variable "environment" { type = string }\n', encoding="utf-8")
    (folder / "tfvars").mkdir()
    (folder / "tfvars" / "bench.tfvars.json").write_text("{}\n", encoding="utf-8")
    (folder / "toolkit.toml").write_text(
        'stacks = ["infra"]\n\n[project]\nname = "bench"\n\n[environments.bench]\n'
        'stacks = { infra = "terraform/infra" }\nbackend = { type = "local" }\nvar_files = ["bench.tfvars.json"]\n',
        encoding="utf-8",
    )
    return paths


def run(work: Path, peers: dict, toolkit_bin: str, count: int, rounds: int) -> tuple[list[Figure], str]:
    """Figures for toolkit and asl-validator (when available), and a note for the report."""
    folder = work / "pipelines-bench"
    paths = write_project(folder, count)
    env = {**os.environ, "CI": "true"}
    validate = [toolkit_bin, "-q", "-C", str(folder), "pipelines", "validate"]
    cold = [toolkit_bin, "-q", "--no-cache", "-C", str(folder), "pipelines", "validate"]
    run_once(validate, env=env)  # untimed: keeps each file's verdict, as any earlier run of the project does
    contenders = [
        Contender("toolkit", lambda: validate, env=env, note="warm: files unchanged since the last run"),
        Contender(COLD, lambda: cold, env=env, note="every file checked again"),
    ]
    note = ""
    validator = peers["asl-validator"]
    if validator.executable:
        argv = [validator.executable, "--silent"]
        for path in paths:
            argv += ["--json-path", str(path)]
        contenders.append(Contender("asl-validator", lambda: argv, env=env))
    else:
        note = f"asl-validator not run: {validator.missing}"
    return interleaved(contenders, rounds), note
