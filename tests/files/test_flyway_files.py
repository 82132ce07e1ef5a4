"""A Flyway project's files as Flyway reads them: lax naming, descriptions, placeholders, COPY data."""

from __future__ import annotations

from toolkit.migrations.discovery import discover


def test_with_naming_validation_off_names_that_do_not_parse_are_skipped_as_flyway_skips_them(tmp_path):
    for name in ("V1__ok.sql", "V2_missing_separator.sql", "v3__lower.sql", "Vx__y.sql", "V2__ok.sql", "V2_0__dup.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    strict = discover(tmp_path)
    assert len(strict.problems) == 4 and strict.skipped == ()
    lax = discover(tmp_path, validate_naming=False)
    assert [f.script for f in lax.versioned] == ["V1__ok.sql", "V2_0__dup.sql"]
    assert lax.skipped == ("V2_missing_separator.sql", "Vx__y.sql", "v3__lower.sql")
    # a duplicate version is still an error: both files would claim one history row
    assert lax.problems == ("V2__ok.sql: versioned migration duplicates V2_0__dup.sql (same version)",)
