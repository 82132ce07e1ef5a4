"""Planning against history rows: order, out-of-order, edited, missing, failed, baseline, repeatables,
environments, placeholders and statements that cannot run in a transaction. Pure: no database."""

from __future__ import annotations

import pytest

from tests.unit.migrations.sources import loaded, row, source
from toolkit.migrations.placeholders import Placeholders
from toolkit.migrations.plan import plan_migrations
from toolkit.project.values import Value, Values

V1 = source("V1__a.sql", "CREATE TABLE a (id int);\n")
V1_1 = source("V1_1__b.sql", "CREATE TABLE b (id int);\n")
V2 = source("V2__c.sql", "CREATE TABLE c (id int);\n")
V10 = source("V10__d.sql", "CREATE TABLE d (id int);\n")


def scripts(plan):
    return [p.file.script for p in plan.pending]


def test_fresh_database_runs_everything_in_numeric_order():
    plan = plan_migrations(loaded(V10, V2, V1_1, V1), [])
    assert scripts(plan) == ["V1__a.sql", "V1_1__b.sql", "V2__c.sql", "V10__d.sql"]
    assert plan.ok and plan.current is None


def test_applied_files_are_not_pending():
    plan = plan_migrations(loaded(V1, V1_1, V2), [row(1, V1), row(2, V1_1)])
    assert scripts(plan) == ["V2__c.sql"]
    assert plan.applied == 2 and plan.current == "1.1"


def test_out_of_order_is_a_problem_unless_allowed():
    history = [row(1, V1), row(2, V2)]
    refused = plan_migrations(loaded(V1, V1_1, V2), history)
    assert refused.problems == (
        "V1_1__b.sql: version 1.1 is not applied but 2 already is (out of order); give it a version "
        "above 2, or allow out-of-order runs",
    )
    allowed = plan_migrations(loaded(V1, V1_1, V2), history, out_of_order=True)
    assert allowed.ok and scripts(allowed) == ["V1_1__b.sql"]
    assert allowed.pending[0].reason == "out of order"


def test_edited_after_apply_is_a_checksum_mismatch():
    plan = plan_migrations(loaded(V1), [row(1, V1, checksum=12345)])
    assert not plan.ok
    assert plan.problems[0].startswith(
        f"V1__a.sql: changed after it was applied (checksum 12345 in the database, {V1.checksum} on disk)"
    )
    assert [s.state for s in plan.states] == ["checksum mismatch"]


def test_missing_file_is_a_problem():
    plan = plan_migrations(loaded(V2), [row(1, V1), row(2, V2)])
    assert plan.problems == ("V1__a.sql: version 1 is applied but its file is missing",)


def test_failed_row_blocks_until_repair():
    plan = plan_migrations(loaded(V1, V2), [row(1, V1), row(2, V2, success=False)])
    assert not plan.ok
    assert "V2__c.sql: version 2 failed in an earlier run" in plan.problems[0]
    assert "toolkit db repair" in plan.problems[0]


def test_baseline_hides_older_files():
    plan = plan_migrations(loaded(V1, V1_1, V2), [row(1, version="1.1", type_="BASELINE")])
    assert scripts(plan) == ["V2__c.sql"]
    assert [s.state for s in plan.states] == ["below baseline", "baseline", "pending"]


def test_repeatables_run_after_versioned_when_their_checksum_changes():
    view = source("R__orders_view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n")
    first = plan_migrations(loaded(view, V1), [])
    assert scripts(first) == ["V1__a.sql", "R__orders_view.sql"]
    assert first.pending[1].reason == "first run"
    unchanged = plan_migrations(loaded(view, V1), [row(1, V1), row(2, view)])
    assert scripts(unchanged) == []
    changed = plan_migrations(loaded(view, V1), [row(1, V1), row(2, view, checksum=1)])
    assert scripts(changed) == ["R__orders_view.sql"] and changed.pending[0].reason == "changed"


def _values(**items):
    return Values("dev", {k: Value(k, v, "test", sensitive=k.endswith("password")) for k, v in items.items()})


def test_repeatable_checksum_is_taken_after_placeholders():
    view = source("R__grants.sql", "GRANT SELECT ON a TO ${reader};\n")
    dev = Placeholders(_values(reader="dev_reader"))
    prod = Placeholders(_values(reader="prod_reader"))
    applied_in_dev = plan_migrations(loaded(view), [], placeholders=dev).pending[0].checksum
    assert applied_in_dev != view.checksum
    again = plan_migrations(loaded(view), [row(1, view, checksum=applied_in_dev)], placeholders=dev)
    assert scripts(again) == []
    other = plan_migrations(loaded(view), [row(1, view, checksum=applied_in_dev)], placeholders=prod)
    assert scripts(other) == ["R__grants.sql"]


def test_placeholders_are_filled_and_sensitive_values_masked_in_what_is_shown():
    v = source("V1__role.sql", "CREATE ROLE ${name} LOGIN PASSWORD '${app_password}';\n")
    plan = plan_migrations(loaded(v), [], placeholders=Placeholders(_values(name="app", app_password="s3cr3t!")))
    assert plan.pending[0].statements[0].sql == "CREATE ROLE app LOGIN PASSWORD 's3cr3t!'"
    assert plan.pending[0].shown == ("CREATE ROLE app LOGIN PASSWORD '***'",)
    assert plan.pending[0].checksum == v.checksum  # versioned: Flyway's checksum of the file as written


def test_unknown_placeholder_is_a_problem_before_anything_runs():
    v = source("V2__x.sql", "SELECT '${bucket}',\n '${bukcet}', '${also_missing}';\n")
    plan = plan_migrations(loaded(V1, v), [], placeholders=Placeholders(_values(bucket="b")))
    where = ": give it a value in the environment's tfvars, a Terraform output or [migrations.placeholders]"
    assert plan.problems == (
        "V2__x.sql:2: unknown placeholder ${bukcet} (did you mean ${bucket}?)" + where,
        "V2__x.sql:2: unknown placeholder ${also_missing}" + where,
    )
    assert [p.file.script for p in plan.pending] == ["V1__a.sql"]  # and the run refuses, for the problems


def test_environment_specific_files_are_skipped_elsewhere():
    fixtures = source("V3__fixtures.sql", "-- toolkit:environments=dev,pr-*\nINSERT INTO a VALUES (1);\n")
    assert scripts(plan_migrations(loaded(V1, fixtures), [], environment="dev")) == [
        "V1__a.sql",
        "V3__fixtures.sql",
    ]
    assert scripts(plan_migrations(loaded(V1, fixtures), [], environment="pr-42"))[-1] == "V3__fixtures.sql"
    prod = plan_migrations(loaded(V1, fixtures), [], environment="prod")
    assert scripts(prod) == ["V1__a.sql"]
    assert prod.states[-1].state == "skipped"


def test_statements_that_cannot_run_in_a_transaction_need_the_directive():
    text = "CREATE TABLE x (id int);\n\nCREATE INDEX CONCURRENTLY x_id ON x (id);\n"
    plan = plan_migrations(loaded(source("V1__idx.sql", text)), [])
    assert plan.problems == (
        "V1__idx.sql:3: `CREATE INDEX CONCURRENTLY x_id …` cannot run inside a transaction; put "
        "`-- toolkit:transaction=false` at the top of the file (and keep that file to such statements: "
        "they are not rolled back if a later one fails)",
    )
    opted_out = plan_migrations(loaded(source("V1__idx.sql", "-- toolkit:transaction=false\n" + text)), [])
    assert opted_out.ok
    for sql in (
        "VACUUM ANALYZE x",
        "DROP INDEX CONCURRENTLY i",
        "CREATE DATABASE d",
        "REINDEX TABLE CONCURRENTLY x",
    ):
        assert not plan_migrations(loaded(source("V1__v.sql", sql + ";\n")), []).ok, sql
    enum = source("V1__enum.sql", "ALTER TYPE mood ADD VALUE 'meh';\n")
    assert plan_migrations(loaded(enum), [], server_version=110000).problems
    assert plan_migrations(loaded(enum), [], server_version=120000).ok


def test_transaction_control_inside_a_file_is_refused():
    text = "BEGIN;\nCREATE TABLE x (id int);\nCOMMIT;\n"
    plan = plan_migrations(loaded(source("V1__tx.sql", text)), [])
    assert [p.split(": `")[0] for p in plan.problems] == ["V1__tx.sql:1", "V1__tx.sql:3"]
    assert "`COMMIT` in a migration: remove it" in plan.problems[1]
    body = "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\n"
    assert plan_migrations(loaded(source("V1__fn.sql", body)), []).ok


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY",
        "REINDEX DATABASE app",
        "REINDEX SYSTEM",
        "REINDEX SCHEMA app",
        "REINDEX (CONCURRENTLY) INDEX i",
        "CLUSTER",
        "CREATE /* why */ INDEX CONCURRENTLY i ON x (id)",
        "CREATE UNIQUE INDEX\n  CONCURRENTLY i ON x (id)",
        "ALTER DATABASE app SET TABLESPACE fast",
        "ALTER SUBSCRIPTION s REFRESH PUBLICATION",
        "ALTER SUBSCRIPTION s SET PUBLICATION p",
    ],
)
def test_statements_refused_in_a_transaction_are_found_from_the_parse_tree(sql):
    plan = plan_migrations(loaded(source("V1__x.sql", f"-- note\n{sql};\n")), [])
    assert plan.problems and plan.problems[0].startswith("V1__x.sql:2: `"), plan.problems
    assert "cannot run inside a transaction" in plan.problems[0]


@pytest.mark.parametrize(
    "sql",
    [
        "ANALYZE x",
        "CLUSTER x USING x_pkey",
        "REINDEX TABLE x",
        "CREATE INDEX i ON x (id)",
        "SELECT 'vacuum the database concurrently'",
        "COMMENT ON TABLE x IS 'REINDEX DATABASE'",
        "ALTER TABLE m DETACH PARTITION m1",
        "ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)",
        "REINDEX (CONCURRENTLY false) TABLE x",
    ],
)
def test_statements_that_run_in_a_transaction_are_not_refused(sql):
    assert plan_migrations(loaded(source("V1__x.sql", sql + ";\n")), []).ok
