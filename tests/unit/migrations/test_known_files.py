"""The cache of known migration files: an unchanged file is not read again, and any change to a file,
however it is disguised (same size and mtime, a rename over it, a racy write), is read afresh."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from toolkit.errors import ValidationFailed
from toolkit.migrations import known_files
from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import discover
from toolkit.migrations.known_files import KnownFiles
from toolkit.migrations.source import load

OLD = 1_700_000_000_000_000_000  # a fixed past mtime (ns): well outside the racy window


@pytest.fixture
def sql(tmp_path: Path) -> Path:
    folder = tmp_path / "sql"
    folder.mkdir()
    write(folder / "V1__one.sql", "CREATE TABLE a (x int);\n")
    write(folder / "V2__two.sql", "-- toolkit:transaction=false\nCREATE INDEX CONCURRENTLY i ON a (x);\n")
    write(folder / "R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n")
    return folder


def write(path: Path, text: str, mtime_ns: int = OLD) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def make_old(folder: Path) -> None:
    """Let every file's ctime count as outside the racy window, as hours-old files' would."""
    known_files.RACY_SECONDS = -3600.0


@pytest.fixture(autouse=True)
def _racy_window():
    saved = known_files.RACY_SECONDS
    yield
    known_files.RACY_SECONDS = saved


def run(sql: Path, cache: Path):
    known = KnownFiles(cache, sql)
    loaded = load(discover(sql), known)
    return known, {s.script: s for s in loaded}


def test_a_second_run_reads_no_file_and_gets_the_same_answers(sql, tmp_path, monkeypatch):
    make_old(sql)
    cache = tmp_path / "state" / "cache" / "migration-files.json"
    first_known, first = run(sql, cache)
    assert first_known.hits == 0 and cache.is_file()
    with monkeypatch.context() as patched:  # the second run must not open a single file
        real = Path.read_bytes

        def refuse(path):
            if sql in path.parents:
                raise AssertionError(f"{path} read")
            return real(path)

        patched.setattr(Path, "read_bytes", refuse)
        known, second = run(sql, cache)
    assert known.hits == 3
    for script, source in first.items():
        again = second[script]
        assert (again.checksum, again.sha256, again.directives) == (source.checksum, source.sha256, source.directives)
    assert second["V2__two.sql"].directives.transactional is False
    assert second["V1__one.sql"].text == first["V1__one.sql"].text  # read on demand, checked against sha256


def test_same_size_and_mtime_but_other_bytes_is_read_again(sql, tmp_path):
    """The attack: rewrite a file with as many bytes and put its mtime back; only ctime tells."""
    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    path = sql / "V1__one.sql"
    before = os.stat(path)
    write(path, "CREATE TABLE b (x int);\n", mtime_ns=before.st_mtime_ns)
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    if after.st_ctime_ns == before.st_ctime_ns:
        pytest.skip("this filesystem's ctime did not move within the test")
    known, sources = run(sql, cache)
    assert known.hits == 2
    assert sources["V1__one.sql"].checksum == flyway_checksum("CREATE TABLE b (x int);\n")


def test_a_file_replaced_by_rename_is_read_again(sql, tmp_path):
    """A new inode (and, the kernel moving it, a new ctime) under the old name, same size and mtime."""
    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    path = sql / "V1__one.sql"
    other = sql.parent / "other.sql"
    write(other, "CREATE TABLE c (x int);\n", mtime_ns=os.stat(path).st_mtime_ns)
    os.replace(other, path)
    known, sources = run(sql, cache)
    assert known.hits == 2
    assert sources["V1__one.sql"].checksum == flyway_checksum("CREATE TABLE c (x int);\n")


def test_a_file_written_just_now_is_never_kept(sql, tmp_path):
    """Racily clean: a write in the same clock tick as the read would leave every stat field alone."""
    cache = tmp_path / "cache.json"
    known, _ = run(sql, cache)  # the files' ctime is now: within the window
    assert not known.entries
    known, _ = run(sql, cache)
    assert known.hits == 0


def test_a_changed_directive_is_seen(sql, tmp_path):
    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    write(sql / "V2__two.sql", "CREATE INDEX CONCURRENTLY i ON a (x);\n")
    _, sources = run(sql, cache)
    assert sources["V2__two.sql"].directives.transactional is True


def test_another_folder_or_other_code_drops_the_whole_cache(sql, tmp_path, monkeypatch):
    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    moved = tmp_path / "elsewhere"
    shutil.copytree(sql, moved, copy_function=shutil.copy2)
    assert run(moved, cache)[0].hits == 0
    run(sql, cache)
    monkeypatch.setattr(known_files, "FORMAT", known_files.FORMAT + 1)
    assert run(sql, cache)[0].hits == 0


def test_a_file_changed_after_its_checksum_came_from_the_cache_is_refused_when_read(sql, tmp_path):
    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    _, sources = run(sql, cache)
    (sql / "R__view.sql").write_text("CREATE OR REPLACE VIEW v AS SELECT 2;\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="R__view.sql changed while toolkit was running"):
        _ = sources["R__view.sql"].text


def test_a_corrupt_or_unwritable_cache_only_costs_time(sql, tmp_path):
    make_old(sql)
    cache = tmp_path / "cache.json"
    cache.write_text("{not json", encoding="utf-8")
    known, sources = run(sql, cache)
    assert known.hits == 0 and len(sources) == 3
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("", encoding="utf-8")
    known, sources = run(sql, blocked / "cache.json")
    assert len(sources) == 3


def test_no_cache_path_keeps_nothing(sql, tmp_path):
    make_old(sql)
    known, _ = run(sql, None)
    assert not known.entries and not list(tmp_path.rglob("*.json"))


def test_an_entry_edited_in_the_cache_file_is_read_again_or_refused(sql, tmp_path):
    """Attacks on the cache file itself: an entry in another shape (an older format's list), one cut
    short, one whose identity is another file's: none of them is taken; the file is read. An entry
    whose checksum was forged keeps the file's identity, so it is taken, but its SHA-256 cannot match
    the bytes and reading the text refuses it (what runs is checked against the bytes, not the cache)."""
    import json

    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    data = json.loads(cache.read_text(encoding="utf-8"))
    files = data["files"]
    identity_of_r = files["R__view.sql"].split(" ")[0]
    files["V1__one.sql"] = [files["V1__one.sql"].split(" ")[0], 1, "0" * 64, None]  # the old shape
    files["V2__two.sql"] = files["V2__two.sql"].rsplit(" ", 2)[0]  # cut short
    files["R__view.sql"] = files["R__view.sql"].replace(identity_of_r, "1.2.3.4.5")  # another file's identity
    cache.write_text(json.dumps(data), encoding="utf-8")
    known, sources = run(sql, cache)
    assert known.hits == 0
    assert sources["V2__two.sql"].directives.transactional is False
    data = json.loads(cache.read_text(encoding="utf-8"))  # rewritten whole by that run
    checksum, sha256 = data["files"]["V1__one.sql"].split(" ")[1:3]
    data["files"]["V1__one.sql"] = data["files"]["V1__one.sql"].replace(f" {checksum} {sha256} ", f" 7 {'1' * 64} ")
    cache.write_text(json.dumps(data), encoding="utf-8")
    known, sources = run(sql, cache)
    assert sources["V1__one.sql"].checksum == 7  # the forged entry was believed ...
    with pytest.raises(ValidationFailed, match="V1__one.sql changed while toolkit was running"):
        _ = sources["V1__one.sql"].text  # ... but nothing from it can run


def test_entries_taken_out_while_loading_survive_a_save_and_a_removed_file_leaves(sql, tmp_path):
    """A load takes each entry out of memory as it uses it; a save (one file changed) must still write the
    entries of the files that did not change, and a removed file's entry must go."""
    import json

    make_old(sql)
    cache = tmp_path / "cache.json"
    run(sql, cache)
    write(sql / "V1__one.sql", "CREATE TABLE a (x bigint);\n")
    known, _ = run(sql, cache)
    assert known.hits == 2  # V1 read again, the other two from the cache
    known, _ = run(sql, cache)
    assert known.hits == 3  # all three kept through the save of the run before
    (sql / "R__view.sql").unlink()
    known, _ = run(sql, cache)
    assert known.hits == 2
    assert sorted(json.loads(cache.read_text(encoding="utf-8"))["files"]) == ["V1__one.sql", "V2__two.sql"]
