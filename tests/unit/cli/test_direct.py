"""`db migrate` without the command tree (cli/direct.py): it takes only command lines it reads exactly as
typer does, and its option tables stay the typer commands' own."""

from __future__ import annotations

import pytest

from toolkit.cli import direct


def click_command(*words: str):
    import typer

    from toolkit.cli.tree import app

    command = typer.main.get_command(app)
    for word in words:
        command = command.commands[word]
    return command


def option_names(command) -> dict[str, str]:
    """Every spelling of every option of a click command -> its parameter's name."""
    return {
        spelling: param.name
        for param in command.params
        if param.param_type_name == "option"
        for spelling in (*param.opts, *param.secondary_opts)
    }


def test_the_root_options_are_typers_own_but_the_ones_typer_keeps_for_itself():
    typer_options = option_names(click_command())
    mine = {name: attribute for name, (attribute, _) in direct._ROOT.items()}
    kept = {"--version", "--install-completion", "--show-completion", "--help"}  # never run here
    assert {name: typer_options[name] for name in typer_options if name not in kept} == mine


@pytest.mark.parametrize("words", sorted(direct.COMMANDS))
def test_each_commands_options_are_typers_own(words):
    typer_options = option_names(click_command(*words))
    typer_options.pop("--help", None)
    assert typer_options == {name: attribute for name, (attribute, _) in direct.COMMANDS[words].items()}
    [argument] = [p for p in click_command(*words).params if p.param_type_name == "argument"]
    assert argument.name == "env" and argument.default == "local"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["db", "migrate"], ({}, {"env": "local"})),
        (["-q", "-C", "proj", "db", "migrate", "qa"], ({"quiet": True, "project": "proj"}, {"env": "qa"})),
        (["--project=proj", "db", "migrate", "--json", "qa"], ({"project": "proj"}, {"json": True, "env": "qa"})),
        (["db", "migrate", "qa", "--database", "orders"], ({}, {"database": "orders", "env": "qa"})),
        (["db", "migrate", "--database=orders", "--dry-run"], ({}, {"database": "orders", "dry_run": True, "env": "local"})),
        (["--fancy", "--no-cache", "db", "migrate"], ({"plain": False, "no_cache": True}, {"env": "local"})),
        (["env", "up", "pr-7", "--branch", "feature/x"], ({}, {"branch": "feature/x", "env": "pr-7"})),
    ],
)  # fmt: skip
def test_what_it_reads(argv, expected):
    root, words, options = direct.parse(argv)
    assert words == tuple(argv[argv.index(words[0]) : argv.index(words[0]) + 2]) and (root, options) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["db"],
        ["db", "status"],
        ["env", "down"],
        ["env", "up", "--dry-run"],  # db migrate's option, not env up's
        ["db", "migrate", "--help"],
        ["--help", "db", "migrate"],
        ["db", "migrate", "--"],  # typer reads what follows as arguments
        ["db", "migrate", "qa", "dev"],  # a usage error: typer's to report
        ["-qv", "db", "migrate"],  # combined short flags
        ["-Cproj", "db", "migrate"],  # an attached short value
        ["-C=proj", "db", "migrate"],  # click's value is "=proj"
        ["-q=1", "db", "migrate"],
        ["db", "migrate", "--database"],  # a missing value
        ["db", "migrate", "--database", "--json"],
        ["db", "migrate", "--database="],
        ["db", "migrate", "--json=yes"],  # a flag with a value
        ["db", "migrate", "--json", "--json"],  # twice: typer's rule, not ours
        ["-C", "a", "-C", "b", "db", "migrate"],
        ["db", "migrate", "--jsn"],  # a typo
        ["db", "--json", "migrate"],  # an option of the group, which has none
        ["--version", "db", "migrate"],
        ["DB", "migrate"],
    ],
)
def test_what_it_leaves_to_typer(argv):
    assert direct.parse(argv) is None


def test_shell_completion_is_left_to_typer(monkeypatch):
    monkeypatch.setenv("_TOOLKIT_COMPLETE", "bash_complete")
    assert direct.run(["toolkit", "db", "migrate"]) is None
