"""Hints name the environment and the command that helps, never a literal ENV or the wrong way out."""

from __future__ import annotations

from pathlib import Path

from tests.unit.migrations.sources import loaded, row, source
from toolkit.commands.apply_bundle import _refusal_hint
from toolkit.migrations.plan import plan_migrations
from toolkit.terraform.argv import StackTarget, force_unlock_argv
from toolkit.terraform.stack import _error_excerpt


def test_migration_problems_name_the_environment_in_their_hints():
    v1 = source("V1__a.sql", "CREATE TABLE a (id int);\n")
    edited = source("V1__a.sql", "CREATE TABLE a (id bigint);\n")
    plan = plan_migrations(loaded(edited), [row(1, v1)], environment="qa")
    assert "`toolkit db repair qa`" in plan.problems[0] and "ENV" not in plan.problems[0]
    failed = plan_migrations(loaded(v1), [row(1, v1, success=False)], environment="qa")
    assert failed.problems[0].endswith("then run `toolkit db repair qa`")


def test_a_refused_delete_points_at_allow_destroy_not_at_a_new_plan():
    folder = Path("/tmp/bundle-prod")
    destroys = ["infra: delete aws_s3_bucket.logs", "infra: replace aws_db_instance.main"]
    hint = _refusal_hint("prod", folder, destroys, 2)
    assert hint == (
        "if each delete and replace was reviewed, allow them: toolkit apply prod --plan /tmp/bundle-prod "
        "--allow-destroy aws_s3_bucket.logs --allow-destroy aws_db_instance.main"
    )
    mixed = _refusal_hint("prod", folder, destroys[:1], 2)
    assert mixed.startswith("make a new plan (toolkit plan prod --out DIR), review it, and apply that; ")
    assert "--allow-destroy aws_s3_bucket.logs" in mixed
    assert (
        _refusal_hint("prod", folder, [], 1)
        == "make a new plan (toolkit plan prod --out DIR), review it, and apply that"
    )


def test_terraform_runs_without_colour_and_its_messages_carry_none():
    target = StackTarget(
        stack="infra",
        directory=Path("/p/stack"),
        environment="local",
        data_dir=Path("/p/.toolkit/local/infra/tfdata"),
        backend=None,
        backend_state_dir=Path("/p/.toolkit/state/infra"),
        var_files=(),
        lock_timeout="5m",
        grace_seconds=30,
    )
    assert "-no-color" in force_unlock_argv(target, "abc")
    coloured = (
        "\x1b[31m╷\x1b[0m\n\x1b[31m│\x1b[0m \x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mFailed to unlock state\x1b[0m\n"
    )
    assert _error_excerpt(coloured) == "    Error: Failed to unlock state"
