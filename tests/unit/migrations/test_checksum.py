"""Flyway's checksum: CRC32 over each line's UTF-8 bytes, line ends removed, BOM dropped, signed.

Expected values are CRC32 of the byte string the algorithm feeds (written next to each case), so a
change in how lines are found, how the BOM is handled or how the sign is taken breaks a case.
"""

from __future__ import annotations

import pytest

from toolkit.migrations.checksum import flyway_checksum

CREATE = "CREATE TABLE t (id int);"  # crc32(b"CREATE TABLE t (id int);") = 92137680


@pytest.mark.parametrize(
    "text",
    [
        CREATE + "\n",
        CREATE + "\r\n",
        CREATE + "\r",
        CREATE,
        "\ufeff" + CREATE + "\n",  # a BOM on the first line is dropped
        "\ufeff" + CREATE + "\r\n",
    ],
    ids=["lf", "crlf", "cr", "no-final-newline", "bom-lf", "bom-crlf"],
)
def test_line_endings_and_bom_do_not_change_the_checksum(text):
    assert flyway_checksum(text) == 92137680


def test_two_lines_are_hashed_without_their_terminators():
    # crc32(b"SELECT 1;SELECT 2;") = 0x9cc0a4fc -> signed -1665099012
    expected = -1665099012
    assert flyway_checksum("SELECT 1;\nSELECT 2;\n") == expected
    assert flyway_checksum("SELECT 1;\r\nSELECT 2;\r\n") == expected
    assert flyway_checksum("SELECT 1;\rSELECT 2;") == expected


def test_blank_lines_add_nothing():
    # crc32(b"ab") = -1635563411 (signed): empty lines feed zero bytes
    assert flyway_checksum("a\n\n\nb\n") == -1635563411
    assert flyway_checksum("a\r\n\r\n\r\nb\r\n\r\n") == -1635563411


def test_non_ascii_is_hashed_as_utf8():
    text = "INSERT INTO t VALUES ('Grüße, 東京');\n"
    assert flyway_checksum(text) == -906644556
    assert flyway_checksum(text.replace("\n", "\r\n")) == -906644556


def test_only_cr_and_lf_end_a_line_unlike_splitlines():
    # Java's readLine() ends lines at \n, \r, \r\n only: form feed, U+2028 and NEL stay in the line.
    text = "a\x0cb\u2028c\x85d"
    assert len(text.splitlines()) == 4  # what a naive implementation would split on
    assert flyway_checksum(text) == -736167977  # crc32 of the whole text's UTF-8 bytes


def test_bom_is_dropped_only_at_the_start():
    assert flyway_checksum("\ufeffx") == flyway_checksum("x") == -1931733373
    assert flyway_checksum("x\n\ufeffy") == 34826083  # crc32 of b"x\xef\xbb\xbfy"


def test_result_is_a_signed_32_bit_integer():
    assert flyway_checksum(CREATE) == 92137680 > 0
    assert flyway_checksum("SELECT 1;SELECT 2;") < 0
    assert flyway_checksum("") == 0


def test_known_values_and_sign():
    # CRC32("SELECT 1;") = 0x04B2335C fits in 31 bits; CRC32("DROP TABLE x;") = 0xF2BCF905 does not,
    # so Flyway (a Java int) stores it as 0xF2BCF905 - 2**32
    assert flyway_checksum("SELECT 1;\r\n") == 0x04B2335C == 78787420
    assert flyway_checksum("DROP TABLE x;\n") == 0xF2BCF905 - (1 << 32) == -222496507
