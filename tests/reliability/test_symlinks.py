"""No input reads outside its folder: a symbolic link in sql/, pipelines/, the var files or a stack folder
that leads out of it is refused, naming the link, before anything is read or printed; a link loop is
named once. The secret file the links point at holds a token that must appear nowhere in the output."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.running import invoke
from toolkit.support.hashing import tree_sha256

pytestmark = pytest.mark.slow

TOKEN = "host-secret-7f3a9c"
REFUSED = "toolkit reads no input through a link that leaves its folder"


@pytest.fixture
def secret(tmp_path) -> Path:
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "shadow").write_text(f"root:{TOKEN}:19000:0:99999:7:::\n")
    (outside / "V12__outside.sql").write_text(f"SELECT '{TOKEN}';\n")
    (outside / "evil.asl.json").write_text(f'{{"Comment": "{TOKEN}"}}')
    return outside


def _refused(result, link: str) -> None:
    assert result.exit_code in (1, 3), result.output
    assert TOKEN not in result.output
    assert REFUSED in result.output and link in result.output, result.output


def test_links_out_of_the_migrations_folder_are_refused_before_a_dry_run_reads_them(
    local_project, secret, record_figure
):
    sql = local_project / "sql"
    attacks = 0
    for name, target in (("V11__x.sql", secret / "shadow"), ("linked", secret)):
        os.symlink(target, sql / name)
        _refused(invoke(local_project, "db", "migrate", "local", "--dry-run"), name)
        _refused(invoke(local_project, "db", "lint"), name)
        (sql / name).unlink()
        attacks += 1
    # a link that stays inside sql/ is followed: the same file under a second name is a duplicate
    os.symlink(
        sql / "V1__init.sql" if (sql / "V1__init.sql").exists() else next(sql.glob("V*.sql")), sql / "V99__same.sql"
    )
    inside = invoke(local_project, "db", "lint")
    assert REFUSED not in inside.output, inside.output
    (sql / "V99__same.sql").unlink()
    # a loop is named once, not 40 levels of duplicates
    (sql / "more").mkdir()
    os.symlink(sql, sql / "more" / "loop")
    looped = invoke(local_project, "db", "lint")
    assert looped.exit_code == 1 and "more/loop is a symbolic link to" in looped.output, looped.output
    assert "a folder already read (a loop)" in looped.output and "duplicates" not in looped.output
    attacks += 1
    # the folder itself a link out of the project
    shutil.rmtree(sql)
    os.symlink(secret, sql)
    _refused(invoke(local_project, "db", "lint"), "project.sql")
    record_figure("symlinks", f"{attacks + 1} links out of sql/ refused, a loop named once")


def test_links_out_of_pipelines_var_files_and_stacks_are_refused(full_local_project, secret):
    project = full_local_project
    kind_folder = next(p for p in (project / "pipelines").iterdir() if p.is_dir())
    os.symlink(secret / "evil.asl.json", kind_folder / "evil.asl.json")
    _refused(invoke(project, "pipelines", "validate"), "evil.asl.json")
    (kind_folder / "evil.asl.json").unlink()

    var_file = project / "tfvars" / "local.tfvars.json"
    shutil.copy(var_file, secret / "local.tfvars.json")
    var_file.unlink()
    os.symlink(secret / "local.tfvars.json", var_file)
    _refused(invoke(project, "values", "local"), "var_files")
    var_file.unlink()
    shutil.copy(secret / "local.tfvars.json", var_file)

    stack = project / "terraform" / "local" / "infra"
    os.symlink(secret / "shadow", stack / "evil.tf")
    _refused(invoke(project, "stacks", "check"), "evil.tf")
    _refused(invoke(project, "env", "up", "local"), "evil.tf")
    (stack / "evil.tf").unlink()


def test_a_stack_hash_never_opens_a_file_outside_the_stack(tmp_path, secret):
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text("# code\n")
    os.symlink(secret / "shadow", stack / "notes.txt")
    before = tree_sha256(stack)
    (secret / "shadow").write_text("changed outside\n")
    assert tree_sha256(stack) == before  # the target's bytes never counted: it was not read
    (stack / "notes.txt").unlink()
    os.symlink(secret / "V12__outside.sql", stack / "notes.txt")
    assert tree_sha256(stack) != before  # repointing the link is a change
