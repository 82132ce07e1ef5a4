"""Drift's catalog snapshots against a real PostgreSQL: what is compared, and what must not be."""

from __future__ import annotations

import pytest

from toolkit.migrations.drift import compare, snapshot
from toolkit.migrations.history import HistoryTable

pytestmark = pytest.mark.slow

HISTORY = HistoryTable("public", "flyway_schema_history")


def execute(conn, *statements):
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def test_not_null_constraints_are_left_to_the_columns_so_older_servers_compare_equal(db_conn):
    execute(db_conn, "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, CHECK (id > 0))")
    with db_conn.cursor() as cur:
        cur.execute("SELECT 'public.t.' || conname FROM pg_constraint WHERE contype = 'n' AND conrelid = 't'::regclass")
        not_null = {name for (name,) in cur.fetchall()}
    assert not_null  # PostgreSQL 18 lists NOT NULL as constraints; 17 and older (RDS) do not
    on_18 = snapshot(db_conn, HISTORY)
    # What an older server reports for the same table: the same catalog without those rows.
    older = {k: v for k, v in on_18.items() if not (k[0] == "constraint" and k[1] in not_null)}
    assert compare(on_18, older) == [] and compare(older, on_18) == []
    assert on_18[("column", "public.t.name")] == "text NOT NULL"  # nullability is still compared
    assert on_18[("constraint", "public.t.t_id_check")] == "CHECK ((id > 0))"


def test_triggers_types_sequences_row_security_policies_and_schemas_are_compared(db_conn):
    execute(
        db_conn,
        "CREATE SCHEMA reporting",
        "CREATE TYPE mood AS ENUM ('ok', 'meh')",
        "CREATE TYPE pair AS (a int, b text)",
        "CREATE DOMAIN positive AS int NOT NULL CHECK (VALUE > 0)",
        "CREATE SEQUENCE ticket INCREMENT 1 START 100",
        "CREATE TABLE t (id int, m mood)",
        "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp()",
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY own_rows ON t FOR SELECT USING (id > 0)",
    )
    expected = snapshot(db_conn, HISTORY)
    execute(
        db_conn,
        "CREATE SCHEMA scratch",
        "ALTER TYPE mood ADD VALUE 'great'",
        "ALTER TYPE pair ADD ATTRIBUTE c int",
        "ALTER DOMAIN positive DROP CONSTRAINT positive_check",
        "ALTER DOMAIN positive ADD CONSTRAINT positive_check CHECK (VALUE >= 0)",
        "ALTER SEQUENCE ticket INCREMENT 10",
        "ALTER TABLE t DISABLE TRIGGER t_stamp",
        "ALTER TABLE t DISABLE ROW LEVEL SECURITY",
        "ALTER POLICY own_rows ON t USING (id > 1)",
    )
    found = [str(d) for d in compare(expected, snapshot(db_conn, HISTORY))]
    assert found == [
        "domain constraint public.positive.positive_check changed: expected 'CHECK ((VALUE > 0))', "
        "found 'CHECK ((VALUE >= 0))'",
        "policy public.t.own_rows changed: expected 'PERMISSIVE FOR SELECT TO public USING ((id > 0))', "
        "found 'PERMISSIVE FOR SELECT TO public USING ((id > 1))'",
        "row security on public.t: the migrations leave it enabled, the database has it disabled",
        "schema scratch is not made by any migration",
        "sequence public.ticket changed: expected 'bigint START 100 INCREMENT 1 MINVALUE 1 MAXVALUE "
        "9223372036854775807 CACHE 1', found 'bigint START 100 INCREMENT 10 MINVALUE 1 MAXVALUE "
        "9223372036854775807 CACHE 1'",
        "trigger public.t.t_stamp changed: expected 'CREATE TRIGGER t_stamp BEFORE INSERT ON public.t FOR EACH "
        "ROW EXECUTE FUNCTION stamp()', found 'CREATE TRIGGER t_stamp BEFORE INSERT ON public.t FOR EACH ROW "
        "EXECUTE FUNCTION stamp() (disabled)'",
        "type public.mood changed: expected \"enum ('ok', 'meh')\", found \"enum ('ok', 'meh', 'great')\"",
        "type public.pair changed: expected 'composite (a integer, b text)', found 'composite (a integer, b text, "
        "c integer)'",
    ]
    assert expected[("type", "public.positive")] == "domain integer NOT NULL"
    assert ("schema", "reporting") in expected
