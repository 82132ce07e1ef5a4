"""Deployment records of several databases (format 3): the first database's migrations on top, the others
under `databases`; a format-2 record still reads as the record of the project's first database."""

from __future__ import annotations

from toolkit.state.deployments import FORMAT, Deployment, migrations_digest


def record(migrations: dict[str, str], **fields) -> Deployment:
    return Deployment(
        "qa", {}, migrations, {}, migrations_sha256=migrations_digest(migrations), format=FORMAT, **fields
    )


def test_each_database_is_read_back_as_it_was_recorded():
    orders, analytics = record({"1": "a" * 64}), record({"1": "b" * 64, "2": "c" * 64})
    both = Deployment.with_databases({"orders": orders, "analytics": analytics})
    assert both.first_database == "orders" and both.migrations == orders.migrations
    assert both.database("orders", first="orders").migrations == orders.migrations
    view = both.database("analytics", first="orders")
    assert view.migrations == analytics.migrations and view.migrations_sha256 == analytics.migrations_sha256
    assert view.stacks == both.stacks  # code fields are the record's own


def test_a_format_2_record_is_the_first_databases_and_knows_no_other():
    old = Deployment("qa", {}, {"1": "a" * 64}, {}, migrations_sha256=migrations_digest({"1": "a" * 64}), format=2)
    assert old.current
    assert old.database("orders", first="orders") is old
    added = old.database("analytics", first="orders")
    assert added.migrations == {} and added.migrations_sha256 is None and added.checksums == {}


def test_the_records_own_first_database_wins_over_the_projects():
    """Databases reordered in toolkit.toml since the record was written: the top-level fields stay the
    database the record says they are."""
    both = Deployment.with_databases({"orders": record({"1": "a" * 64}), "analytics": record({"9": "b" * 64})})
    assert both.database("orders", first="analytics").migrations == {"1": "a" * 64}
    assert both.database("analytics", first="analytics").migrations == {"9": "b" * 64}
