"""Drift's pure parts: comparing snapshots and what the report says about them."""

from __future__ import annotations

from toolkit.migrations.drift import Difference, defined_by, set_aside, version_warning


def test_a_different_major_version_on_the_scratch_server_is_a_warning():
    assert version_warning(180001, 180004) is None
    assert version_warning(170005, 180001) == (
        "the database runs PostgreSQL 17 and the scratch server PostgreSQL 18: catalog output can differ "
        "between major versions, so check differences in function, view and constraint text by eye"
    )
    assert version_warning(90624, 180001).startswith("the database runs PostgreSQL 9.6 ")


def test_what_a_file_defines_is_its_ddl_targets_only():
    sql = [
        "CREATE OR REPLACE VIEW app.recent AS SELECT * FROM orders",
        "CREATE FUNCTION total(int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
        "CREATE INDEX CONCURRENTLY orders_placed ON orders (placed_at)",
        "CREATE TRIGGER t BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION total()",
        "DROP TYPE mood",
        "CREATE SCHEMA reporting",
        "DO $$ BEGIN EXECUTE 'DROP TABLE customers'; END $$",
        "INSERT INTO customers VALUES (1)",
    ]
    assert defined_by(sql) == {
        ("app", "recent"),
        (None, "total"),
        (None, "orders"),
        (None, "orders_placed"),
        (None, "audit"),
        (None, "mood"),
        ("reporting", None),
    }


def test_differences_about_a_changed_file_are_set_aside_from_drift():
    view = Difference("view", "public.recent", "changed", "SELECT 1", "SELECT 2")
    column = Difference("column", "public.recent.total", "missing", "integer", None)
    index = Difference(
        "index", "public.orders_x", "missing", "CREATE INDEX orders_x ON public.orders USING btree (x)", None
    )
    elsewhere = Difference("column", "public.customers.note", "unexpected", None, "text")
    drift, pending = set_aside(
        [view, column, index, elsewhere], {"R__recent.sql": {(None, "recent")}, "V3__o.sql": {("public", "orders")}}
    )
    assert drift == [elsewhere]
    assert pending == {"R__recent.sql": [view, column], "V3__o.sql": [index]}
