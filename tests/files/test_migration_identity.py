"""A migration's identity is the SHA-256 of its bytes, not Flyway's CRC32 (which drops line breaks): the
edits below keep the CRC32 and must still change what toolkit compares."""

from __future__ import annotations

import pytest

from toolkit.migrations.discovery import parse_name
from toolkit.migrations.source import read_source

REVIEWED = b"CREATE TABLE u (id int);\n-- later, once approved:GRANT ALL ON u TO PUBLIC;\n"


@pytest.mark.parametrize(
    "edited",
    [
        # the commented statement moved onto its own line: it would now run
        b"CREATE TABLE u (id int);\n-- later, once approved:\nGRANT ALL ON u TO PUBLIC;\n",
        REVIEWED.replace(b"\n", b"\r\n"),  # LF -> CRLF
        REVIEWED.replace(b";\n-- ", b";\r-- "),  # a lone CR
        REVIEWED + b"\n",  # one more line break at the end
    ],
    ids=["line-break-moved", "crlf", "cr", "trailing-newline"],
)
def test_edits_flyway_cannot_see_change_the_sha256(tmp_path, edited):
    path = tmp_path / "V2__u.sql"
    path.write_bytes(REVIEWED)
    before = read_source(parse_name(path, tmp_path))
    path.write_bytes(edited)
    after = read_source(parse_name(path, tmp_path))
    assert after.checksum == before.checksum  # Flyway's history would not notice
    assert after.sha256 != before.sha256


def test_a_byte_inside_a_comment_changes_both_and_the_sha256_is_of_the_bytes(tmp_path):
    import hashlib

    path = tmp_path / "V2__u.sql"
    path.write_bytes(b"\xef\xbb\xbf" + REVIEWED)  # a BOM: stripped from the text, kept in the identity
    source = read_source(parse_name(path, tmp_path))
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not source.text.startswith("\ufeff")
    path.write_bytes(REVIEWED.replace(b"approved", b"approvED"))
    assert read_source(parse_name(path, tmp_path)).sha256 != source.sha256
