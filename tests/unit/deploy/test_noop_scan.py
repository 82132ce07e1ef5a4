"""The scan a verified no-op `db migrate` is keyed by (deploy/noop_verdict.py:scan): any change below the
migrations folder, however it is disguised, gives another digest; what it cannot judge gives none."""

from __future__ import annotations

import os

import pytest

from toolkit.deploy import noop_verdict
from toolkit.deploy.noop_verdict import scan


@pytest.fixture
def sql(tmp_path, monkeypatch):
    monkeypatch.setattr(noop_verdict, "RACY_SECONDS", -3600.0)  # the files count as old
    folder = tmp_path / "sql"
    (folder / "nested").mkdir(parents=True)
    (folder / "V1__a.sql").write_text("CREATE TABLE a (id int);\n")
    (folder / "nested" / "V2__b.sql").write_text("CREATE TABLE b (id int);\n")
    return folder


def test_the_same_folder_scans_the_same(sql):
    assert scan(sql).digest is not None and scan(sql) == scan(sql)


def test_a_nested_file_edited_with_its_size_and_mtime_put_back(sql):
    before = scan(sql)
    path = sql / "nested" / "V2__b.sql"
    st = path.stat()
    path.write_text("create TABLE b (id int);\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert scan(sql) != before


@pytest.mark.parametrize(
    "change",
    [
        lambda sql: (sql / "V3__c.sql").write_text("SELECT 1;\n"),
        lambda sql: (sql / "V1__a.sql").rename(sql / "V1__renamed.sql"),
        lambda sql: (sql / "nested" / "V2__b.sql").unlink(),
        lambda sql: (sql / "notes.txt").write_text("not a migration, still an entry\n"),
        lambda sql: (sql / "nested" / "deeper").mkdir(),
        lambda sql: os.chmod(sql / "V1__a.sql", 0o600),
    ],
)
def test_every_other_change_gives_another_digest(sql, change):
    before = scan(sql)
    change(sql)
    assert scan(sql) != before


def test_a_links_target_counts_and_a_loop_ends(sql):
    (sql / "shared").mkdir()
    body = sql / "shared" / "body.txt"
    body.write_text("CREATE TABLE c (id int);\n")
    (sql / "V3__c.sql").symlink_to(body)
    (sql / "nested" / "up").symlink_to(sql, target_is_directory=True)  # a loop back to the top
    before = scan(sql)
    assert before.digest is not None
    body.write_text("CREATE TABLE d (id int);\n")
    assert scan(sql) != before


def test_what_it_cannot_judge_gives_no_digest(sql, monkeypatch):
    os.mkfifo(sql / "V9__pipe.sql")
    assert scan(sql).digest is None
    (sql / "V9__pipe.sql").unlink()
    (sql / "V4__dangling.sql").symlink_to(sql / "missing.sql")
    assert scan(sql).digest is None
    (sql / "V4__dangling.sql").unlink()
    monkeypatch.setattr(noop_verdict, "RACY_SECONDS", 3600.0)  # written just now
    assert scan(sql).digest is None
    assert scan(sql.parent / "absent").digest is None
