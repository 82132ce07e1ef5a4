"""`toolkit db migrate` and `toolkit env up` run without the command tree: the commands every deploy job
runs, whose no-op (`deploy/noop_verdict.py`, the cached steps of `env up`) takes less time than importing
typer and building the tree would.

Only a command line this module reads exactly as typer would is run here: the root's options, one of
these commands, its own options, each spelled `--name value`, `--name=value` or a lone short flag;
anything else (`--help`, a typo, a combined `-qv`, `--`) returns None and the tree parses it, with its
usage errors. A test holds the option lists here to the typer commands' own (tests/unit/cli/test_direct.py).
The body is the typer command's own function (the typer command calls it too): the same options set, the
same verb, the same rendering, the same exit codes.
"""

from __future__ import annotations

from pathlib import Path

# The root's options (cli/root.py:main_options): name -> (attribute, value it sets; None: takes a value).
_ROOT = {
    "--project": ("project", None),
    "-C": ("project", None),
    "--engine": ("engine", None),
    "--verbose": ("verbose", True),
    "-v": ("verbose", True),
    "--quiet": ("quiet", True),
    "-q": ("quiet", True),
    "--plain": ("plain", True),
    "--fancy": ("plain", False),
    "--debug": ("debug", True),
    "--no-debug": ("debug", False),
    "--no-cache": ("no_cache", True),
}
# `db migrate`'s options (cli/db.py:migrate).
_MIGRATE = {
    "--dry-run": ("dry_run", True),
    "--database": ("database", None),
    "--json": ("json", True),
    "--endpoint": ("endpoint", None),
    "--emulator": ("emulator", True),
}
# `env up`'s options (cli/env.py:up).
_UP = {
    "--json": ("json", True),
    "--endpoint": ("endpoint", None),
    "--emulator": ("emulator", True),
    "--branch": ("branch", None),
}
COMMANDS = {("db", "migrate"): _MIGRATE, ("env", "up"): _UP}


def parse(args: list[str]) -> tuple[dict, tuple[str, ...], dict] | None:
    """(root options, command words, command options with `env`) as typer would read `args`, or None."""
    root: dict = {}
    at = _options(args, 0, _ROOT, root)
    if at is None:
        return None
    words = tuple(args[at : at + 2])
    table = COMMANDS.get(words)
    if table is None:
        return None
    options: dict = {}
    rest = args[at + 2 :]
    positional = []
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg.startswith("-"):
            index = _option(rest, index, table, options)
            if index is None:
                return None
        else:
            positional.append(arg)
            index += 1
    if len(positional) > 1:
        return None
    options["env"] = positional[0] if positional else "local"
    return root, words, options


def _options(args: list[str], at: int, table: dict, into: dict) -> int | None:
    while at < len(args) and args[at].startswith("-"):
        at = _option(args, at, table, into)
        if at is None:
            return None
    return at


def _option(args: list[str], at: int, table: dict, into: dict) -> int | None:
    """Read the option at `at` into `into`; the index after it, or None when typer should read it."""
    name, equals, value = args[at].partition("=")
    if equals and not name.startswith("--"):
        return None  # click reads `-C=x` as the value "=x"
    if name not in table:
        return None
    attribute, flag = table[name]
    if attribute in into:
        return None  # given twice: typer's rule (the last wins) is left to typer
    if flag is not None:
        if equals:
            return None
        into[attribute] = flag
        return at + 1
    if not equals:
        if at + 1 >= len(args) or args[at + 1].startswith("-"):
            return None
        value = args[at + 1]
        at += 1
    if not value:
        return None
    into[attribute] = value
    return at + 1


def run(argv: list[str]) -> int | None:
    """Run `argv` when it is a command this module reads; its exit code, or None (the tree runs it)."""
    import os

    if any(name.endswith("_COMPLETE") for name in os.environ):
        return None  # shell completion: click answers it from the tree
    parsed = parse(argv[1:])
    if parsed is None:
        return None
    root, words, options = parsed
    from toolkit.cli.console import configure_logging
    from toolkit.cli.invocation import OPTIONS, guarded

    OPTIONS.project = Path(root["project"]) if "project" in root else None
    OPTIONS.engine = root.get("engine")
    OPTIONS.verbose, OPTIONS.quiet = root.get("verbose", False), root.get("quiet", False)
    OPTIONS.plain, OPTIONS.debug, OPTIONS.no_cache = (
        root.get("plain"),
        root.get("debug", False),
        root.get("no_cache", False),
    )
    configure_logging(OPTIONS.verbose, OPTIONS.quiet)
    body = migrate if words == ("db", "migrate") else up
    return guarded(lambda: body(**options), as_json=options.get("json", False))


def migrate(env: str, dry_run: bool = False, database: str | None = None, json: bool = False,
            endpoint: str | None = None, emulator: bool = False) -> None:  # fmt: skip
    """The body of `db migrate`, whichever parsed its command line (here, or typer in cli/db.py)."""
    from toolkit.cli import text
    from toolkit.cli.console import show
    from toolkit.cli.invocation import context
    from toolkit.commands.db import db_migrate

    result = db_migrate(context(endpoint, emulator=emulator), env, dry_run=dry_run, database=database)
    show(result, json, text.each_database(text.db_migrate))


def up(env: str, json: bool = False, endpoint: str | None = None, emulator: bool = False,
       branch: str | None = None) -> None:  # fmt: skip
    """The body of `env up`, whichever parsed its command line (here, or typer in cli/env.py)."""
    from toolkit.cli import text
    from toolkit.cli.console import show
    from toolkit.cli.invocation import context
    from toolkit.commands.env import env_up

    show(env_up(context(endpoint, emulator=emulator), env, branch=branch), json, text.env_up)
