"""The CI files only wire commands: each is valid for its CI system, and every `toolkit` and `make`
command in them exists with the options used (the commands themselves are tested elsewhere)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml

from tests.projects import REPO
from toolkit.cli import app

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
GITLAB = REPO / "ci" / "gitlab-ci.yml"
JENKINS = REPO / "ci" / "Jenkinsfile"


@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-workflows", WORKFLOWS), ("vendor.gitlab-ci", [GITLAB])],
    ids=["github", "gitlab"],
)
def test_ci_files_validate_against_their_schema(schema, files):
    assert files
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _scripts() -> list[tuple[str, str]]:
    found = []
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            found += [(path.name, step["run"]) for step in job.get("steps", []) if "run" in step]
    for job in yaml.safe_load(GITLAB.read_text()).values():
        if isinstance(job, dict):
            found += [(GITLAB.name, line) for key in ("script", "before_script") for line in job.get(key, [])]
    found += [(JENKINS.name, m[1]) for m in re.finditer(r"(?:sh |sh\(script: )'([^']+)'", JENKINS.read_text())]
    return found


def _commands(prefix: str) -> list[tuple[str, list[str]]]:
    """Every `toolkit ...` or `make ...` invocation, tokenised, with CI expressions replaced by a word."""
    commands = []
    for where, script in _scripts():
        text = re.sub(r"\$\{\{[^}]*\}\}", "X", script)
        text = re.sub(r"\$\([^)]*\)", "X", text)
        for line in text.splitlines():
            for part in re.split(r"\|\||&&|;|\|", line):
                words = shlex.split(part, posix=True) if part.strip() else []
                for index, word in enumerate(words):
                    if word == prefix or word.endswith(f"/{prefix}"):
                        commands.append((where, words[index + 1 :]))
                        break
    return commands


def test_every_toolkit_command_and_option_in_ci_exists():
    root = typer.main.get_command(app)
    commands = _commands("toolkit")
    assert len(commands) >= 10
    for where, words in commands:
        command, ctx_path = root, ["toolkit"]
        options = {o for p in root.params for o in p.opts}
        rest = list(words)
        while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
            name = rest.pop(0)
            assert name in command.commands, f"{where}: unknown command {' '.join([*ctx_path, name])}"
            command, ctx_path = command.commands[name], [*ctx_path, name]
        assert not hasattr(command, "commands"), f"{where}: {' '.join(ctx_path)} needs a subcommand"
        options |= {o for p in command.params for o in p.opts}
        for word in rest:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"{where}: {' '.join(ctx_path)} has no option {word}"


def test_every_make_target_in_ci_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.MULTILINE))
    used = {words[0] for _, words in _commands("make") if words}
    assert used and used <= targets, used - targets


def test_no_expression_is_pasted_into_a_script():
    """Event data (a branch name, a title) pasted into a script is script injection: it reaches scripts only
    as environment variables (GitHub `env:`, GitLab variables, Jenkins single-quoted `sh`)."""
    for where, script in _scripts():
        assert "${{" not in script, f"{where}: pass expressions through env:, not inline: {script}"
    assert not re.search(r'\bsh\s*\(?\s*(script:\s*)?"', JENKINS.read_text()), (
        "Jenkinsfile: sh with Groovy interpolation"
    )


# What the CI files promise, attacked one by one: a protected environment's credentials never reach code
# from a pull request, every job is limited in time and in permissions, a bundle is never an artifact.
PROTECTED_ROLES = ("DEPLOY", "_PLAN")  # AWS_ROLE_<ENV>_DEPLOY, AWS_ROLE_<ENV>_PLAN: only after merge
PULL_REQUEST_ROLES = ("AWS_ROLE_EPHEMERAL", "AWS_ROLE_DEV_RECORDS", "AWS_ROLE_QA_RECORDS", "AWS_ROLE_PROD_RECORDS")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _workflows() -> list[tuple[str, dict]]:
    return [(path.name, yaml.safe_load(path.read_text())) for path in WORKFLOWS]


def _triggers(workflow: dict) -> set[str]:
    on = workflow.get(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return set(on) if isinstance(on, dict | list) else {on}


def test_github_permissions_are_per_job_and_nothing_at_workflow_level():
    for name, workflow in _workflows():
        assert workflow.get("permissions") == {}, f"{name}: workflow-level permissions must be {{}}"
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_id} has no permissions of its own"
            assert job.get("timeout-minutes"), f"{name}: job {job_id} has no timeout-minutes"


def test_pull_request_code_never_gets_a_protected_role_or_the_bundle_storage():
    for name, workflow in _workflows():
        if not _triggers(workflow) & {"pull_request", "pull_request_target"}:
            continue
        assert "pull_request_target" not in _triggers(workflow), f"{name}: pull_request_target runs with secrets"
        text = (REPO / ".github" / "workflows" / name).read_text()
        roles = set(re.findall(r"vars\.(AWS_ROLE_\w+)", text))
        assert roles and roles <= set(PULL_REQUEST_ROLES), (
            f"{name}: a pull request reaches {roles - set(PULL_REQUEST_ROLES)}"
        )
        assert "BUNDLES" not in text and "plan prod" not in text and "--out" not in text, name


def test_every_action_is_pinned_to_a_commit_and_no_bundle_is_an_artifact():
    for name, workflow in _workflows():
        for job_id, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert PINNED.match(step["uses"]), f"{name}: {job_id} uses {step['uses']} (pin it to a commit)"
                    assert "upload-artifact" not in step["uses"], f"{name}: {job_id} uploads an artifact"
                    assert (
                        step["uses"].split("@")[0] != "actions/checkout" or step["with"]["persist-credentials"] is False
                    )


def test_gitlab_jobs_are_limited_in_time_never_allowed_to_fail_and_merge_requests_get_no_protected_role():
    config = yaml.safe_load(GITLAB.read_text())
    assert config["default"]["timeout"], "every job needs a time limit: default.timeout"
    for job_id, job in config.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        assert job.get("allow_failure") in (None, False), f"gitlab {job_id}: allow_failure hides a failure"
        for paths in (job.get("artifacts") or {}).get("paths", []):
            assert "bundle" not in paths, f"gitlab {job_id}: a bundle is kept as an artifact"
        if any("merge_request_event" in str(rule.get("if", "")) for rule in job.get("rules", [])):
            text = yaml.safe_dump(job)
            roles = set(re.findall(r"\$(AWS_ROLE_\w+)", text))
            assert roles <= set(PULL_REQUEST_ROLES), f"gitlab {job_id}: a merge request reaches {roles}"


def test_jenkins_approval_has_a_timeout_and_holds_no_executor_and_pull_requests_stay_on_their_agents():
    text = JENKINS.read_text()
    assert re.search(r"^pipeline \{\n(?://.*\n|\s*\n)*\s*agent none", text, flags=re.MULTILINE), "agent none on top"
    approve = text[text.index("stage('Approve prod')") :].split("stage('Apply prod')")[0]
    assert "agent none" in approve and "timeout(time: 24, unit: 'HOURS')" in approve and "input {" in approve
    stages = re.split(r"\n    stage\('", text)[1:]
    for stage in stages:
        title = stage.split("'")[0]
        if "steps" in stage and "parallel" not in stage.split("steps")[0]:
            assert "timeout(" in stage, f"Jenkins stage {title} has no timeout"
        if "changeRequest()" in stage:
            labels = set(re.findall(r"label '([^']+)'", stage))
            assert labels <= {"toolkit", "aws-records", "aws-ephemeral"}, (
                f"Jenkins {title}: pull requests reach {labels}"
            )
    assert "archiveArtifacts artifacts: 'bundle" not in text and not re.search(r"^\s*stash ", text, flags=re.MULTILINE)


def test_zizmor_finds_nothing_in_the_workflows():
    """The security linter, offline and pedantic: nothing left unexplained at any severity."""
    zizmor = Path(sys.executable).parent / "zizmor"
    result = subprocess.run(
        [str(zizmor), "--offline", "--persona=pedantic", *map(str, WORKFLOWS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
