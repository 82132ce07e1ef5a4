"""The layout holds: every import in toolkit/ follows the layer table in docs/architecture.md, no import
cycle exists (so no import inside a function can be there to dodge one), no verb imports another verb,
only the CLI uses Typer or prints, and modules and functions stay small. The table is read from the
document itself, so the two cannot drift; each rule is also run on a made-up tree that breaks it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
PRINTS_ALLOWED = {"toolkit.terraform.embedded"}  # the embedded engine's own process entry point
EXEMPT = {"toolkit", "toolkit.__main__"}  # the package root and `python -m toolkit`


def read_tree() -> dict[str, str]:
    """module name -> source, for every module of the package (a package's own module is its __init__)."""
    return {
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p.read_text()
        for p in sorted((REPO / "toolkit").rglob("*.py"))
    }


TREE = read_tree()


def layer_of(module: str) -> str:
    """`toolkit.deploy.stacks` -> `deploy`, `toolkit.errors` -> `errors`."""
    return module.split(".")[1] if "." in module else module


def layer_table(markdown: str) -> dict[str, set[str]]:
    """The table under the heading "Layers and imports": "| `folder/` | `layer/`, `layer/` |" rows."""
    section = markdown.split("## Layers and imports", 1)[1].split("\n## ", 1)[0]
    return {
        layer: set(re.findall(r"`([a-z_]+)(?:/|\.py)?`", allowed))
        for layer, allowed in re.findall(r"^\| *`([a-z_]+)(?:/|\.py)?` *\|([^|]*)\|", section, flags=re.MULTILINE)
    }


TABLE = layer_table((REPO / "docs" / "architecture.md").read_text())


def _inside(node: ast.AST, parents: dict[ast.AST, ast.AST], test) -> bool:
    while node in parents:
        node = parents[node]
        if test(node):
            return True
    return False


def imports_of(module: str, tree: dict[str, str]) -> list[tuple[str, int]]:
    """(imported toolkit module, line) of every import that runs, at the top or inside a function;
    `if TYPE_CHECKING:` imports are for annotations only and run nothing."""
    syntax = ast.parse(tree[module])
    parents = {child: node for node in ast.walk(syntax) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(syntax):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if _inside(node, parents, lambda n: isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:  # `from toolkit.x import y` imports the module toolkit.x.y when there is one
            base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in tree else base for a in node.names]
        found += [(t, node.lineno) for t in targets if t.split(".")[0] == "toolkit"]
    return found


def against_the_table(tree: dict[str, str], table: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module in tree:
        if module in EXEMPT:
            continue
        source = layer_of(module)
        for target, line in imports_of(module, tree):
            if layer_of(target) not in (source, *table.get(source, ())) and target != "toolkit":
                wrong.append(f"{module}:{line}: {source} imports {target}")
            elif source == "commands" and layer_of(target) == "commands" and target != "toolkit.commands":
                wrong.append(f"{module}:{line}: a verb imports the verbs of {target}")
    return wrong


def a_cycle(tree: dict[str, str]) -> list[str] | None:
    """One import cycle among the modules, imports inside functions counted too, or None."""
    graph = {m: sorted({t for t, _ in imports_of(m, tree) if t in tree and t != m}) for m in tree}
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = "open", path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node], _ = "done", path.pop()
        return None

    return next((found for m in graph if m not in state and (found := visit(m))), None)


def too_big(module: str, source: str) -> list[str]:
    found = [f"{module} has {source.count(chr(10))} lines"] if source.count("\n") > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{module}:{node.lineno}: {node.name} is {length} lines")
    return found


def outside_the_cli(module: str, source: str) -> list[str]:
    """Typer imported, or print called, outside toolkit/cli/ (a module's own `__main__` block may print)."""
    if layer_of(module) == "cli" or module in EXEMPT:
        return []
    syntax = ast.parse(source)
    entry = {
        id(n) for b in syntax.body if isinstance(b, ast.If) and "__main__" in ast.unparse(b.test) for n in ast.walk(b)
    }
    found = []
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{module}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] in ("typer", "click")]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "print"
            and id(node) not in entry
            and module not in PRINTS_ALLOWED
        ):
            found.append(f"{module}:{node.lineno}: prints")
    return found


# --- the rules on the real tree ------------------------------------------------------------------


def test_the_table_names_every_layer_there_is():
    layers = {layer_of(m) for m in TREE if m not in EXEMPT}
    assert layers <= set(TABLE), f"layers missing from docs/architecture.md: {sorted(layers - set(TABLE))}"
    for layer, allowed in TABLE.items():
        assert allowed <= set(TABLE), f"{layer}: the table names unknown layers {sorted(allowed - set(TABLE))}"


def test_every_import_follows_the_layer_table():
    wrong = against_the_table(TREE, TABLE)
    assert not wrong, "imports against the table in docs/architecture.md:\n" + "\n".join(wrong)


def test_no_import_cycle_even_through_imports_inside_functions():
    # So an import inside a function is only ever there to keep startup fast, never to hold a cycle open.
    cycle = a_cycle(TREE)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", sorted(TREE))
def test_modules_and_functions_are_small(module):
    assert not too_big(module, TREE[module])


def test_only_the_cli_uses_typer_and_prints():
    wrong = [line for module, source in TREE.items() for line in outside_the_cli(module, source)]
    assert not wrong, "\n".join(wrong)


# --- the same rules, each broken on purpose ------------------------------------------------------

FAKE = {
    "toolkit.errors": "",
    "toolkit.support.masking": "",
    "toolkit.deploy.stacks": "from toolkit.support import masking\n",
    "toolkit.commands.env": "from toolkit.deploy import stacks\n",
    "toolkit.commands.db": "",
    "toolkit.cli.env": "import typer\n",
}
FAKE_TABLE = {
    "cli": {"commands"},
    "commands": {"deploy"},
    "deploy": {"support"},
    "support": {"errors"},
    "errors": set(),
}


def fake(**changes: str) -> dict[str, str]:
    return {**FAKE, **{name.replace("__", "."): text for name, text in changes.items()}}


def test_the_fake_tree_is_clean():
    assert not against_the_table(FAKE, FAKE_TABLE) and a_cycle(FAKE) is None


@pytest.mark.parametrize(
    "source",
    [
        "from toolkit.cli import env\n",  # a lower layer reaching up
        "import toolkit.cli.env\n",
        "def f():\n    from toolkit.cli.env import app\n",  # hidden in a function
        "try:\n    from toolkit.cli import env\nexcept ImportError:\n    pass\n",
    ],
)
def test_an_import_against_the_table_is_caught_wherever_it_hides(source):
    assert against_the_table(fake(toolkit__deploy__stacks=source), FAKE_TABLE)


def test_a_type_checking_import_runs_nothing_and_is_not_counted():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toolkit.cli import env\n"
    assert not against_the_table(fake(toolkit__deploy__stacks=source), FAKE_TABLE)


def test_a_verb_importing_a_verb_is_caught():
    assert against_the_table(fake(toolkit__commands__env="from toolkit.commands.db import x\n"), FAKE_TABLE)


def test_a_cycle_held_open_by_an_import_inside_a_function_is_caught():
    tree = fake(toolkit__support__masking="def f():\n    from toolkit.deploy import stacks\n")
    cycle = a_cycle(tree)
    assert cycle is not None and set(cycle) == {"toolkit.deploy.stacks", "toolkit.support.masking"}


def test_long_modules_and_functions_are_caught():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert too_big("m", f"def f():\n{body}") == [f"m:1: f is {MAX_FUNCTION_LINES + 1} lines"]
    assert too_big("m", "x = 1\n" * (MAX_MODULE_LINES + 1))


def test_typer_and_print_outside_the_cli_are_caught():
    assert outside_the_cli("toolkit.deploy.stacks", "import typer\nprint('hi')\n") == [
        "toolkit.deploy.stacks:1: imports typer",
        "toolkit.deploy.stacks:2: prints",
    ]
    assert not outside_the_cli("toolkit.pipelines.shapes", "if __name__ == '__main__':\n    print('x')\n")
    assert not outside_the_cli("toolkit.cli.env", "import typer\nprint('hi')\n")
