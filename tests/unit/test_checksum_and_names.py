"""Flyway's checksum and file-name grammar, from the algorithm's facts."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import Version, parse_name


def signed(value: int) -> int:
    return value - (1 << 32) if value >= (1 << 31) else value


def test_checksum_is_crc32_of_lines_without_terminators():
    assert flyway_checksum("CREATE TABLE a (id int);\n") == signed(zlib.crc32(b"CREATE TABLE a (id int);"))
    assert flyway_checksum("a\nb\n") == signed(zlib.crc32(b"ab"))


@pytest.mark.parametrize("variant", ["a\r\nb\r\n", "a\rb\r", "a\nb", "\ufeffa\nb\n"])
def test_line_endings_and_bom_do_not_change_it(variant):
    assert flyway_checksum(variant) == flyway_checksum("a\nb\n")


def test_blank_lines_and_non_ascii():
    assert flyway_checksum("a\n\n\nb\n") == signed(zlib.crc32(b"ab"))
    assert flyway_checksum("-- café ☕\n") == signed(zlib.crc32("-- café ☕".encode()))
    # only the first line's BOM is dropped; other unicode line separators are content, not line ends
    assert flyway_checksum("a\u2028b") == signed(zlib.crc32("a\u2028b".encode()))
    assert flyway_checksum("a\n\ufeffb") == signed(zlib.crc32("a\ufeffb".encode()))


def test_known_values_and_sign():
    # CRC32("SELECT 1;") = 0x04B2335C fits in 31 bits; CRC32("DROP TABLE x;") = 0xF2BCF905 does not,
    # so Flyway (a Java int) stores it as 0xF2BCF905 - 2**32
    assert flyway_checksum("SELECT 1;\r\n") == 0x04B2335C == 78787420
    assert flyway_checksum("DROP TABLE x;\n") == 0xF2BCF905 - (1 << 32) == -222496507


def test_versions_compare_numerically_and_normalise():
    assert Version.parse("1.10") > Version.parse("1.9")
    assert Version.parse("2") > Version.parse("1.10")
    assert Version.parse("1") == Version.parse("1.0") == Version.parse("01") == Version.parse("1_0")
    with pytest.raises(ValueError):
        Version.parse("1.a")


ROOT = Path("/sql")


@pytest.mark.parametrize(
    ("name", "kind", "version", "description"),
    [
        ("V1__init.sql", "versioned", "1", "init"),
        ("V1_2__add_index.sql", "versioned", "1.2", "add index"),
        ("V2.0.1__x.sql", "versioned", "2.0.1", "x"),
        ("U3__undo_it.sql", "undo", "3", "undo it"),
        ("R__views.sql", "repeatable", None, "views"),
    ],
)
def test_names(name, kind, version, description):
    parsed = parse_name(ROOT / name, ROOT)
    assert (parsed.kind, str(parsed.version) if parsed.version else None, parsed.description) == (
        kind,
        version,
        description,
    )


@pytest.mark.parametrize("name", ["V1_init.sql", "v1__lower.sql", "V__noversion.sql", "V1.x__bad.sql", "R1__x.sql"])
def test_names_that_look_like_migrations_but_do_not_parse(name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        parse_name(ROOT / name, ROOT)


@pytest.mark.parametrize("name", ["README.sql", "schema.sql", "V1__x.txt", "seed_data.sql"])
def test_other_files_are_not_migrations(name):
    assert parse_name(ROOT / name, ROOT) is None
