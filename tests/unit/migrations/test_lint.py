"""Destructive-change lint on pglast: each rule, allow annotations, tables new in the same run."""

from __future__ import annotations

import pytest

from tests.unit.migrations.sources import source
from toolkit.migrations.lint import lint_sources
from toolkit.migrations.rules import RULES


def findings(*sources):
    return [(f.script, f.line, f.rule, f.allowed) for f in lint_sources(sources)]


@pytest.mark.parametrize(
    "sql, rule",
    [
        ("DROP TABLE customers", "drop-table"),
        ("ALTER TABLE customers DROP COLUMN email", "drop-column"),
        ("TRUNCATE orders", "truncate"),
        ("ALTER TABLE orders ALTER COLUMN total TYPE numeric", "column-type"),
        ("ALTER TABLE orders ADD COLUMN note text NOT NULL", "not-null"),
        ("ALTER TABLE orders ALTER COLUMN note SET NOT NULL", "not-null"),
        ("CREATE INDEX orders_note ON orders (note)", "index-without-concurrently"),
        ("ALTER TABLE orders RENAME COLUMN note TO remark", "rename"),
        ("ALTER TABLE orders RENAME TO purchases", "rename"),
        ("ALTER TABLE orders ADD COLUMN ref int PRIMARY KEY", "not-null"),
        ("ALTER TABLE orders ADD PRIMARY KEY (id)", "index-without-concurrently"),
        ("ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE (ref)", "index-without-concurrently"),
        ("ALTER TABLE orders ADD EXCLUDE USING gist (during WITH &&)", "index-without-concurrently"),
        ("ALTER FUNCTION order_total(bigint) RENAME TO order_sum", "rename"),
        ("ALTER PROCEDURE archive() RENAME TO archive_all", "rename"),
        ("ALTER TYPE mood RENAME TO feeling", "rename"),
        ("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", "rename"),
        ("ALTER TYPE pair RENAME ATTRIBUTE a TO first", "rename"),
        ("ALTER DOMAIN positive RENAME CONSTRAINT positive_check TO above_zero", "rename"),
        ("ALTER TABLE orders RENAME CONSTRAINT orders_pkey TO orders_pk", "rename"),
    ],
)
def test_each_rule(sql, rule):
    assert findings(source("V7__change.sql", f"-- why\n\n{sql};\n")) == [("V7__change.sql", 3, rule, False)]


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT ''",
        "ALTER TABLE orders ADD COLUMN note text",
        "CREATE INDEX CONCURRENTLY orders_note ON orders (note)",
        "CREATE TABLE fresh (id int); CREATE INDEX fresh_id ON fresh (id); ALTER TABLE fresh DROP COLUMN id",
        "DO $$ BEGIN EXECUTE 'DROP TABLE customers'; END $$",
        "ALTER TABLE orders ADD COLUMN id2 bigint GENERATED ALWAYS AS IDENTITY NOT NULL",
        "ALTER TABLE orders ADD COLUMN id3 bigserial PRIMARY KEY",
        "ALTER TABLE orders ADD CONSTRAINT orders_pk PRIMARY KEY USING INDEX orders_pk_idx",
        "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE USING INDEX orders_ref_idx",
        "CREATE TABLE fresh (id int); ALTER TABLE fresh ADD PRIMARY KEY (id); ALTER TABLE fresh RENAME CONSTRAINT fresh_pkey TO fresh_pk",
    ],
)
def test_safe_changes_pass(sql):
    assert findings(source("V7__change.sql", sql + ";\n")) == []


def test_allow_annotation_accepts_the_named_rule_only():
    text = "-- toolkit:allow=drop-column\nALTER TABLE c DROP COLUMN a;\nTRUNCATE c;\n"
    result = lint_sources([source("V8__cleanup.sql", text)])
    assert [(f.rule, f.allowed, f.refused) for f in result] == [
        ("drop-column", True, False),
        ("truncate", False, True),
    ]
    assert str(result[1]) == "V8__cleanup.sql:3: truncate: TRUNCATE c: TRUNCATE deletes every row"


def test_only_a_table_created_in_the_same_file_is_new():
    create = source("V1__create.sql", "CREATE TABLE t (id int);\n")
    index = source("V2__index.sql", "CREATE INDEX t_id ON t (id);\n")
    assert findings(create, index) == [("V2__index.sql", 1, "index-without-concurrently", False)]


def test_messages_name_what_is_renamed_or_indexed():
    text = (
        "ALTER FUNCTION order_total(bigint) RENAME TO order_sum;\n"
        "ALTER TABLE orders ADD PRIMARY KEY (id);\n"
        "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';\n"
    )
    assert [f.message.split(":")[0] for f in lint_sources([source("V9__x.sql", text)])] == [
        "RENAME order_total TO order_sum",
        "ADD PRIMARY KEY on orders builds its index",
        "RENAME VALUE 'sad' TO 'blue' of type mood",
    ]


def test_placeholders_and_unparsable_sql():
    assert findings(source("V1__p.sql", "DROP TABLE ${schema}.old;\n")) == [("V1__p.sql", 1, "drop-table", False)]
    bad = lint_sources([source("V1__bad.sql", "SELEC 1;\n")])
    assert [(f.rule, f.refused) for f in bad] == [("syntax", False)]


def lines_and_rules(text, **options):
    return [(f.line, f.rule) for f in lint_sources([source("V9__x.sql", text)], **options)]


def test_a_table_is_new_only_under_its_schema_qualified_name():
    text = (
        "CREATE TABLE archive.orders (id int, note text);\n"
        "ALTER TABLE orders DROP COLUMN note;\n"
        "DROP TABLE orders;\n"
        "TRUNCATE public.orders;\n"
    )
    assert lines_and_rules(text) == [(2, "drop-column"), (3, "drop-table"), (4, "truncate")]
    assert lines_and_rules('CREATE TABLE "Orders" (id int);\nDROP TABLE orders;\n') == [(2, "drop-table")]
    assert lines_and_rules('CREATE TABLE Orders (id int);\nDROP TABLE "orders";\n') == []  # unquoted folds
    assert lines_and_rules('CREATE TABLE t (id int);\nTRUNCATE public.t;\nDROP TABLE "public".t;\n') == []
    assert lines_and_rules("CREATE TABLE app.t (id int);\nDROP TABLE t;\n", default_schema="app") == []
    assert lines_and_rules("CREATE TABLE t (id int);\nDROP TABLE public.t;\n", default_schema="app") == [
        (2, "drop-table")
    ]
    assert lines_and_rules("SET search_path TO app;\nCREATE TABLE t (id int);\nDROP TABLE app.t;\n") == []
    assert lines_and_rules("CREATE TEMP TABLE scratch (id int);\nDROP TABLE scratch;\n") == []


def test_create_table_if_not_exists_does_not_make_a_table_new():
    text = "CREATE TABLE IF NOT EXISTS orders (id int, note text);\nALTER TABLE orders DROP COLUMN note;\n"
    assert lines_and_rules(text) == [(2, "drop-column")]
    assert lines_and_rules("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS id;\nTRUNCATE t;\n") == [(2, "truncate")]


def test_judged_as_one_run_a_lock_rule_on_a_table_an_earlier_file_creates_only_warns():
    create = source("V1__create.sql", "CREATE TABLE t (id int, note text);\n")
    index = source("V2__index.sql", "CREATE INDEX t_id ON t (id);\nALTER TABLE t ALTER COLUMN note SET NOT NULL;\n")
    drop = source("V3__drop.sql", "ALTER TABLE t DROP COLUMN note;\nCREATE INDEX o_id ON other (id);\n")
    found = lint_sources([create, index, drop], as_run=True)
    assert [(f.script, f.rule, f.severity, f.refused) for f in found] == [
        ("V2__index.sql", "index-without-concurrently", "warning", False),
        ("V2__index.sql", "not-null", "warning", False),
        ("V3__drop.sql", "drop-column", "error", True),  # losing data is judged per file, wherever it runs
        ("V3__drop.sql", "index-without-concurrently", "error", True),  # `other` is not this run's
    ]
    assert str(found[0]) == (
        "V2__index.sql:1: warning: index-without-concurrently: CREATE INDEX on t (created earlier in this run by "
        "V1__create.sql; refused where the table already exists): " + RULES["index-without-concurrently"]
    )
    # the same files, each on its own (db lint): where V1 ran long ago, V2 locks a busy table
    assert [f.refused for f in lint_sources([create, index, drop])] == [True, True, True, True]


def test_refusals_of_a_pending_set_parse_the_creating_files_only_when_needed():
    from toolkit.migrations.lint import LintPolicy, run_findings

    create = source("V1__create.sql", "CREATE TABLE t (id int);\n")
    index = source("V2__index.sql", "CREATE INDEX t_id ON t (id);\n")
    assert [f.refused for f in run_findings([create, index], LintPolicy())] == [False]
    assert [f.refused for f in run_findings([index], LintPolicy())] == [True]  # V1 applied before this run


def test_policy_severities_and_allowances_per_file():
    from toolkit.migrations.lint import LintPolicy

    text = "ALTER TABLE c RENAME COLUMN a TO b;\nTRUNCATE c;\n"
    policy = LintPolicy("public", {"rename": "warning"}, {"V8__x.sql": frozenset({"truncate"})})
    found = lint_sources([source("V8__x.sql", text), source("V9__y.sql", text)], policy=policy)
    assert [(f.script, f.rule, f.severity, f.allowed, f.refused) for f in found] == [
        ("V8__x.sql", "rename", "warning", False, False),
        ("V8__x.sql", "truncate", "error", True, False),
        ("V9__y.sql", "rename", "warning", False, False),
        ("V9__y.sql", "truncate", "error", False, True),
    ]
