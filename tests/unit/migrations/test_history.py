"""Reading a history table Flyway wrote: undo, DELETE and SCHEMA rows, as Flyway reads them. Pure."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.migrations.sources import loaded, row, source
from toolkit.migrations.history import effective
from toolkit.migrations.plan import plan_migrations

V1 = source("V1__a.sql", "CREATE TABLE a (id int);\n")
V2 = source("V2__b.sql", "CREATE TABLE b (id int);\n")
U2 = source("U2__b.sql", "DROP TABLE b;\n")
V3 = source("V3__c.sql", "CREATE TABLE c (id int);\n")
VIEW = source("R__v.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n")


def undo(rank, success=True):
    return row(rank, U2, type_="UNDO_SQL", success=success)


def schema_row(version=None):
    """What Flyway writes when it creates the schema (version NULL; Flyway 3 and 4 wrote "0")."""
    marker = row(0, version=version, type_="SCHEMA")
    return replace(marker, description="<< Flyway Schema Creation >>", script='"public"')


def test_an_undone_version_is_pending_again_without_a_checksum_error():
    history = [row(1, V1), row(2, V2), undo(3)]
    plan = plan_migrations(loaded(V1, V2), history)
    assert plan.ok, plan.problems
    assert [p.file.script for p in plan.pending] == ["V2__b.sql"] and plan.current == "1"
    again = history + [row(4, V2), undo(5), row(6, V2)]
    assert [r.installed_rank for r in effective(again)] == [1, 6]


def test_a_failed_undo_blocks_until_repair():
    plan = plan_migrations(loaded(V1, V2), [row(1, V1), row(2, V2), undo(3, success=False)])
    assert "U2__b.sql: version 2 failed in an earlier run" in plan.problems[0]


def test_a_delete_row_removes_the_version_and_a_repeatable_runs_again():
    plan = plan_migrations(loaded(V1, V3), [row(1, V1), row(2, V2), row(3, V2, type_="DELETE"), row(4, V3)])
    assert plan.ok and plan.pending == () and plan.applied == 2
    view = plan_migrations(loaded(V1, VIEW), [row(1, V1), row(2, VIEW), row(3, VIEW), row(4, VIEW, type_="DELETE")])
    assert [p.file.script for p in view.pending] == ["R__v.sql"]


def test_schema_rows_are_ignored_old_and_new_style():
    for marker in (schema_row(), schema_row(version="0")):
        plan = plan_migrations(loaded(V1), [marker, row(1, V1)])
        assert plan.ok and plan.pending == () and [s.state for s in plan.states] == ["applied"], plan.problems
        assert effective([marker]) == []
