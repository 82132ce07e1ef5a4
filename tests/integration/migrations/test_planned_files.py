"""A run reads each pending file again when it applies it (it keeps no text between planning and
applying): a file whose bytes changed after the plan was made must be refused, never run as changed
nor recorded with the planned checksum."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.errors import ValidationFailed
from toolkit.migrations import known_files
from toolkit.migrations.apply import migrate
from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import discover
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.known_files import KnownFiles
from toolkit.migrations.source import load

pytestmark = pytest.mark.slow

HISTORY = HistoryTable("public", "flyway_schema_history")
FIRST = "CREATE TABLE first_table (id int);\n"
SECOND = "CREATE TABLE second_table (id int);\n"


def project(tmp_path: Path) -> Path:
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "V1__first.sql").write_text(FIRST, encoding="utf-8")
    (sql / "V2__second.sql").write_text(SECOND, encoding="utf-8")
    return sql


def rewrite_unseen(path: Path, text: str) -> None:
    """New bytes of the same length, with the old mtime put back: what a stat-based check would miss."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def tables(conn) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {name for (name,) in cur.fetchall()}


def history(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT script, checksum, success FROM flyway_schema_history ORDER BY installed_rank")
        return cur.fetchall()


def when_applying(script: str, change):
    def on_event(event: str) -> None:
        if event == f"applying {script}":
            change()

    return on_event


@pytest.mark.parametrize("cached", [False, True])
def test_a_later_file_changed_after_the_plan_is_refused_and_the_earlier_ones_stay_applied(
    db_conn, tmp_path, monkeypatch, cached
):
    sql = project(tmp_path)
    known = None
    if cached:  # the checksums then come from the cache: the files are not read at load at all
        monkeypatch.setattr(known_files, "RACY_SECONDS", -3600.0)  # as if the files were hours old
        load(discover(sql), KnownFiles(tmp_path / "known.json", sql))
        known = KnownFiles(tmp_path / "known.json", sql)
    loaded = load(discover(sql), known)
    if cached:
        assert known.hits == 2
    evil = "DROP     TABLE first_table CASCADE;\n"
    assert len(evil) == len(SECOND)
    change = when_applying("V1__first.sql", lambda: rewrite_unseen(sql / "V2__second.sql", evil))
    with pytest.raises(ValidationFailed, match="V2__second.sql changed after the plan was made") as raised:
        migrate(db_conn, loaded, HISTORY, on_event=change)
    assert "the 1 file(s) before it in this run were applied" in str(raised.value)
    assert tables(db_conn) >= {"first_table"}  # the changed file's statement did not run
    assert "second_table" not in tables(db_conn)
    assert history(db_conn) == [("V1__first.sql", flyway_checksum(FIRST), True)]


def test_the_first_file_changed_after_the_plan_leaves_nothing_applied(db_conn, tmp_path):
    sql = project(tmp_path)
    change = when_applying("V1__first.sql", lambda: rewrite_unseen(sql / "V1__first.sql", FIRST.replace("id", "no")))
    with pytest.raises(ValidationFailed, match="V1__first.sql changed after the plan was made; nothing of it ran"):
        migrate(db_conn, discover(sql), HISTORY, on_event=change)
    assert not {"first_table", "second_table"} & tables(db_conn)
    assert history(db_conn) == []


def test_line_breaks_changed_after_the_plan_are_refused_though_flyway_s_checksum_is_the_same(db_conn, tmp_path):
    sql = project(tmp_path)
    crlf = SECOND.replace("\n", "\r\n")
    assert flyway_checksum(crlf) == flyway_checksum(SECOND)  # only the bytes tell them apart
    change = when_applying("V2__second.sql", lambda: (sql / "V2__second.sql").write_bytes(crlf.encode()))
    with pytest.raises(ValidationFailed, match="V2__second.sql changed after the plan was made"):
        migrate(db_conn, discover(sql), HISTORY, on_event=change)
    assert [row[0] for row in history(db_conn)] == ["V1__first.sql"]


def test_a_file_removed_after_the_plan_is_refused_with_a_message_not_a_traceback(db_conn, tmp_path):
    sql = project(tmp_path)
    change = when_applying("V1__first.sql", (sql / "V2__second.sql").unlink)
    with pytest.raises(ValidationFailed, match="V2__second.sql changed after the plan was made"):
        migrate(db_conn, discover(sql), HISTORY, on_event=change)
    assert [row[0] for row in history(db_conn)] == ["V1__first.sql"]


def test_an_unchanged_run_applies_every_file_with_its_planned_checksum(db_conn, tmp_path):
    sql = project(tmp_path)
    result = migrate(db_conn, discover(sql), HISTORY)
    assert [s.script for s in result.applied] == ["V1__first.sql", "V2__second.sql"]
    assert history(db_conn) == [
        ("V1__first.sql", flyway_checksum(FIRST), True),
        ("V2__second.sql", flyway_checksum(SECOND), True),
    ]
