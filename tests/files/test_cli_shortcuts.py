"""`toolkit --version` and a `--help` page seen before are answered without the command tree (no typer,
nothing heavy), and the answer is byte for byte what the tree prints; a page is kept only while nothing
that shapes it changed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit.cli import shortcuts
from toolkit.errors import ExitCode
from toolkit.support import cache

HEAVY = ("typer", "click", "pydantic", "boto3", "botocore", "psycopg2", "rich", "jsonschema")


def toolkit(*args: str, cache_dir: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it, with `-X importtime` to see what it imported."""
    script = str(Path(sys.executable).with_name("toolkit"))
    environ = {k: v for k, v in os.environ.items() if not k.endswith("_COMPLETE")}
    environ.update(TOOLKIT_CACHE_DIR=str(cache_dir), **env)
    return subprocess.run(
        [sys.executable, "-X", "importtime", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=environ,
    )


def imported(run: subprocess.CompletedProcess) -> set[str]:
    lines = (line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:"))
    return {name.split(".")[0] for name in lines}


def without_importtime(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("import time:"))


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["env", "--help"], ["db", "migrate", "--help"], ["plan", "local", "--help"], ["--version"]],
)
def test_the_answer_is_the_trees_and_a_second_one_imports_nothing_heavy(argv, tmp_path):
    tree = toolkit(*argv, cache_dir="off", cwd=tmp_path)
    first = toolkit(*argv, cache_dir=tmp_path / "cache", cwd=tmp_path)
    time.sleep(0.01)
    second = toolkit(*argv, cache_dir=tmp_path / "cache", cwd=tmp_path)
    assert tree.returncode == first.returncode == second.returncode == 0, tree.stderr
    assert tree.stdout == first.stdout == second.stdout
    if argv == ["--version"]:  # never built the tree: the tree's own answer, in-process
        from typer.testing import CliRunner

        from toolkit.cli import app

        by_typer = CliRunner().invoke(app, argv)
        assert (by_typer.exit_code, by_typer.output) == (0, tree.stdout)
    else:
        assert tree.stdout.startswith("Usage: toolkit ") and "typer" in imported(tree)
    assert not imported(second) & set(HEAVY), sorted(imported(second) & set(HEAVY))
    assert without_importtime(second.stderr) == ""


def test_another_page_or_another_terminal_width_is_not_taken_from_the_cache(tmp_path):
    cached = tmp_path / "cache"
    root = toolkit("--help", cache_dir=cached, cwd=tmp_path)
    again = toolkit("--help", cache_dir=cached, cwd=tmp_path)
    assert not imported(again) & {"typer"}  # the page is cached...
    env_page = toolkit("env", "--help", cache_dir=cached, cwd=tmp_path)
    assert env_page.stdout != root.stdout and "up" in env_page.stdout  # ...but only for its own command line
    narrow = toolkit("--help", cache_dir=cached, cwd=tmp_path, COLUMNS="60")
    assert "typer" in imported(narrow)
    assert narrow.stdout == toolkit("--help", cache_dir="off", cwd=tmp_path, COLUMNS="60").stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) < max(len(line) for line in root.stdout.splitlines())


def test_a_failed_help_is_never_kept(tmp_path):
    for _ in range(2):
        run = toolkit("nosuch", "--help", cache_dir=tmp_path / "cache", cwd=tmp_path)
        assert run.returncode == ExitCode.USAGE and "No such command" in run.stderr and "typer" in imported(run)
    assert not list((tmp_path / "cache").rglob("*"))


@pytest.mark.parametrize(
    "argv",
    [
        ["toolkit"],
        ["toolkit", "--help", "env"],
        ["toolkit", "-C", "somewhere", "--help"],
        ["toolkit", "env", "up", "--json", "--help"],
        ["toolkit", "db", "../x", "--help"],
        ["toolkit", "-h"],
    ],
)
def test_only_a_plain_command_line_ending_in_help_has_a_page(argv):
    assert shortcuts.page_key(argv) is None


def test_shell_completion_is_never_answered_from_the_cache(monkeypatch):
    assert shortcuts.page_key(["toolkit", "--help"]) is not None
    monkeypatch.setenv("_TOOLKIT_COMPLETE", "complete_bash")
    assert shortcuts.page_key(["toolkit", "--help"]) is None


@pytest.mark.parametrize("name", ["COLUMNS", "TERM", "NO_COLOR", "FORCE_COLOR", "TYPER_USE_RICH", "CI", "TOOLKIT_X"])
def test_every_variable_that_shapes_a_page_is_in_its_key(name, monkeypatch):
    monkeypatch.delenv(name, raising=False)
    before = shortcuts.page_key(["toolkit", "--help"])
    monkeypatch.setenv(name, "1")
    assert shortcuts.page_key(["toolkit", "--help"]) != before


@pytest.mark.parametrize(
    "env",
    [{}, {"TOOLKIT_CACHE_DIR": "off"}, {"TOOLKIT_CACHE_DIR": "/x/y"}, {"XDG_CACHE_HOME": "/xdg"}, {"HOME": "/h"}],
)
def test_the_pages_live_in_the_per_user_cache(env, monkeypatch):
    for name in ("TOOLKIT_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = cache.folder()
    assert shortcuts.cache_folder() == (None if expected is None else str(expected))


def _with_module(tmp_path: Path, monkeypatch, text: str) -> Path:
    """A module of its own loaded into this process, its file old enough to be kept."""
    path = tmp_path / "shaping_module.py"
    path.write_text(text)
    monkeypatch.setattr(shortcuts, "_RACY_NS", 0)
    module = type(sys)("shaping_module")
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, "shaping_module", module)
    return path


def test_a_page_is_dropped_when_any_module_file_it_was_made_with_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "cache"))
    path = _with_module(tmp_path, monkeypatch, "HELP = 'one'\n")
    key = shortcuts.page_key(["toolkit", "--help"])
    shortcuts._store(key, "page one\n")
    assert shortcuts._cached(key) == "page one\n"
    assert shortcuts._cached(key + " ") is None
    path.write_text("HELP = 'two'\n")  # same size; mtime may not even move on a coarse clock, ctime does
    assert shortcuts._cached(key) is None
    shortcuts._store(key, "page two\n")
    assert shortcuts._cached(key) == "page two\n"
    os.replace(tmp_path / "cache" / shortcuts._entry(key), tmp_path / "elsewhere")
    path.unlink()
    (tmp_path / "cache" / shortcuts._entry(key)).write_bytes((tmp_path / "elsewhere").read_bytes())
    assert shortcuts._cached(key) is None  # a file that vanished


def test_a_module_file_written_a_moment_ago_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "cache"))
    _with_module(tmp_path, monkeypatch, "HELP = 'fresh'\n")
    monkeypatch.setattr(shortcuts, "_RACY_NS", 2_000_000_000)
    key = shortcuts.page_key(["toolkit", "--help"])
    shortcuts._store(key, "page\n")
    assert shortcuts._cached(key) is None


def test_a_damaged_cache_file_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "cache"))
    key = shortcuts.page_key(["toolkit", "--help"])
    entry = tmp_path / "cache" / shortcuts._entry(key)
    entry.parent.mkdir(parents=True)
    for junk in (b"", b"\x00garbage", b"\xe9" * 40):
        entry.write_bytes(junk)
        assert shortcuts._cached(key) is None
