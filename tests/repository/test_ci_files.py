"""The CI files only wire commands: each is valid for its CI system, and every `toolkit` and `make`
command in them exists with the options used (the commands themselves are tested elsewhere)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

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
