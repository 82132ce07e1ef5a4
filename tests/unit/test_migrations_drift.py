"""Drift's pure parts: comparing snapshots and what the report says about them."""

from __future__ import annotations

from toolkit.migrations.drift import version_warning


def test_a_different_major_version_on_the_scratch_server_is_a_warning():
    assert version_warning(180001, 180004) is None
    assert version_warning(170005, 180001) == (
        "the database runs PostgreSQL 17 and the scratch server PostgreSQL 18: catalog output can differ "
        "between major versions, so check differences in function, view and constraint text by eye"
    )
    assert version_warning(90624, 180001).startswith("the database runs PostgreSQL 9.6 ")
