"""Flyway's file-name grammar: versions, descriptions, duplicates, names that do not parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.migrations.discovery import Version, parse_name

ROOT = Path("/sql")


def parse(name: str):
    return parse_name(ROOT / name, ROOT)


@pytest.mark.parametrize(
    "lower, higher",
    [("1.9", "1.10"), ("1.10", "2"), ("1", "1.1"), ("1.0.9", "1.1"), ("2_1", "2.2"), ("9", "10")],
)
def test_versions_compare_numerically_part_by_part(lower, higher):
    assert Version.parse(lower) < Version.parse(higher)


@pytest.mark.parametrize("same", ["1", "1.0", "01", "1_0", "001.0.0"])
def test_equal_versions(same):
    assert Version.parse(same) == Version.parse("1")
    assert hash(Version.parse(same)) == hash(Version.parse("1"))


def test_underscores_in_version_mean_dots_and_in_description_spaces():
    found = parse("V2_1_3__add_customer_email.sql")
    assert found.kind == "versioned"
    assert str(found.version) == "2.1.3"
    assert found.description == "add customer email"
    assert found.script == "V2_1_3__add_customer_email.sql"


@pytest.mark.parametrize(
    ("name", "kind", "version", "description"),
    [
        ("V1__init.sql", "versioned", "1", "init"),
        ("V1_2__add_index.sql", "versioned", "1.2", "add index"),
        ("V2.0.1__x.sql", "versioned", "2.0.1", "x"),
        ("U3__undo_it.sql", "undo", "3", "undo it"),
        ("R__views.sql", "repeatable", None, "views"),
        # As Flyway's ResourceNameParser: the first `__` ends the version, every `_` after it is a space,
        # kept exactly (a repeatable's history rows are found by its description).
        ("V1__.sql", "versioned", "1", ""),
        ("V1__trailing_.sql", "versioned", "1", "trailing "),
        ("V1___leading.sql", "versioned", "1", " leading"),
        ("V1__a__b.sql", "versioned", "1", "a  b"),
        ("R__views_.sql", "repeatable", None, "views "),
        ("R__.sql", "repeatable", None, ""),
    ],
)
def test_names(name, kind, version, description):
    parsed = parse(name)
    assert (parsed.kind, str(parsed.version) if parsed.version else None, parsed.description) == (
        kind,
        version,
        description,
    )


def test_a_version_is_digits_and_separators_only():
    with pytest.raises(ValueError):
        Version.parse("1.a")


def test_repeatable_and_undo():
    assert parse("R__views_orders.sql").kind == "repeatable"
    assert parse("R__views_orders.sql").version is None
    undo = parse("U3__drop_x.sql")
    assert undo.kind == "undo" and str(undo.version) == "3"


@pytest.mark.parametrize(
    "name",
    [
        "V1_create.sql",
        "Vx__create.sql",
        "V1.a__x.sql",
        "V1.x__bad.sql",
        "R1__view.sql",
        "v1__lower.sql",
        "V__noversion.sql",
    ],
)
def test_names_that_look_like_migrations_but_do_not_parse_are_errors(name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        parse(name)


@pytest.mark.parametrize(
    "name", ["README.md", "README.sql", "schema.sql", "seed.sql", "seed_data.sql", "V1__x.txt", "helpers/functions.txt"]
)
def test_other_files_are_not_migrations(name):
    assert parse(name) is None


def test_values_longer_than_the_history_columns_are_refused_with_the_file():
    long_version = "1." + "0" * 48 + "1"  # 51 characters: the history table's version is VARCHAR(50)
    with pytest.raises(ValueError) as raised:
        parse(f"V{long_version}__x.sql")
    assert str(raised.value) == (
        f"V{long_version}__x.sql: version {long_version} has 51 characters, more than the 50 the history "
        "table's version column holds"
    )
    assert parse("V" + "1" * 50 + "__x.sql").version.text == "1" * 50
    deep = "a" * 200 + "/" + "b" * 200 + "/" + "c" * 200 + "/" + "d" * 200 + "/" + "e" * 200 + "/V1__x.sql"
    with pytest.raises(ValueError, match="has 1014 characters, more than the 1000 the history table's script"):
        parse_name(ROOT / deep, ROOT, deep)
