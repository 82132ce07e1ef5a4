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
