"""The verdict cache of `pipelines validate`: a warm run reports exactly what a cold one does (every
problem, position and placeholder), and each key changed alone (the file's bytes, the name it is shown
by, its kind, the checks' code) is a miss; `--no-cache` and `TOOLKIT_NO_CACHE=1` neither read nor write it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.projects import REPO, remove_state_dir, write_pipelines_project
from tests.running import invoke
from toolkit.pipelines import verdicts
from toolkit.pipelines.catalog import load_catalog
from toolkit.pipelines.validate import _LAST
from toolkit.project.loader import load_project

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pipelines"
MARK = "FROM THE CACHE"
BROKEN_PLACEHOLDER = {
    "Comment": "load @@{db_name} into @@{oops",
    "StartAt": "Go",
    "States": {"Go": {"Type": "Pass", "Result": {"host": "@@{db_host:string}"}, "End": True}},
}


@pytest.fixture
def folder(tmp_path) -> Path:
    """Every golden case, the repository's own pipelines, and an ASL file with a malformed placeholder."""
    folder = tmp_path / "pipelines"
    shutil.copytree(GOLDEN, folder / "golden")
    shutil.copytree(REPO / "pipelines", folder / "project")
    (folder / "placeholders.asl.json").write_text(json.dumps(BROKEN_PLACEHOLDER, indent=2))
    return folder


def catalog(folder: Path, cache: Path | None):
    found = load_catalog(folder, folder, cache)
    return found.problems, {p.file: (p.placeholders, p.data) for p in found.pipelines}


def mark_every_verdict(cache: Path) -> int:
    """Give every kept problem list one more problem that only the cache can have put there."""
    data = json.loads(cache.read_text())
    for key, entry in data["files"].items():
        entry[0].append([key.split(":")[1], 1, 1, "", "test:mark", MARK, None, "error"])
    cache.write_text(json.dumps(data))
    return len(data["files"])


def marked(problems) -> set[str]:
    return {p.file for p in problems if p.message == MARK}


def test_a_warm_run_reports_exactly_what_a_cold_one_does(folder, tmp_path):
    cache = tmp_path / "cache" / "pipeline-verdicts.json"
    cold = catalog(folder, None)
    first = catalog(folder, cache)
    warm_catalog = load_catalog(folder, folder, cache)
    unparsed = [p for p in warm_catalog.pipelines if "data" not in vars(p.loaded)]
    assert len(unparsed) > 10  # a verdict's file is parsed only when its data is asked for...
    assert load_catalog(folder, folder, None).pipelines == warm_catalog.pipelines  # ...and then is the same
    warm = catalog(folder, cache)
    assert cold == first == warm
    assert any(p.message for p in cold[0]) and any(marks for marks, _ in cold[1].values())
    assert "placeholders.asl.json" in {p.file for p in cold[0]}  # the malformed one, found again when warm


def test_warm_verdicts_are_the_cached_ones_for_kinds_that_read_only_the_file(folder, tmp_path):
    cache = tmp_path / "pipeline-verdicts.json"
    catalog(folder, cache)
    kept = mark_every_verdict(cache)
    problems, files = catalog(folder, cache)
    hit = marked(problems)
    assert len(hit) == kept > 10
    assert {name.rsplit(".", 2)[-2] for name in hit} == set(verdicts.CACHED_KINDS)
    assert not any("/json/" in name for name in hit)  # a file that did not parse is never kept


@pytest.mark.parametrize(
    "change",
    ["one byte", "same size and mtime", "kind", "shown by another name"],
)
def test_each_key_changed_alone_is_a_miss(folder, tmp_path, change):
    cache = tmp_path / "pipeline-verdicts.json"
    path = folder / "golden" / "asl" / "invalid-small-gaps.asl.json"
    catalog(folder, cache)
    mark_every_verdict(cache)
    shown = str(path.relative_to(folder))
    if change == "one byte":
        path.write_text(path.read_text() + " ")
    elif change == "same size and mtime":
        before = path.stat()
        path.write_text(path.read_text().replace(" ", "\t", 1))  # same length, other bytes
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    elif change == "kind":
        # Same bytes and folder, read as another kind (the suffix says it, so the name moves too).
        shown = shown.replace(".asl.json", ".datapipeline.json")
        path = path.rename(folder / shown)
    else:
        shown = "golden/asl/renamed-small-gaps.asl.json"
        path = path.rename(folder / shown)
    problems, _ = catalog(folder, cache)
    assert shown not in marked(problems)
    assert len(marked(problems)) >= 10  # every other file still came from the cache
    assert {p.file for p in problems if p.file == shown} == {shown}  # checked, and shown by its own name


def test_the_checks_code_is_in_the_key(folder, tmp_path, monkeypatch):
    cache = tmp_path / "pipeline-verdicts.json"
    catalog(folder, cache)
    mark_every_verdict(cache)
    assert marked(catalog(folder, cache)[0])
    import toolkit

    monkeypatch.setattr(toolkit, "__version__", toolkit.__version__ + "+changed")
    verdicts.code_key.cache_clear()
    try:
        assert not marked(catalog(folder, cache)[0])
    finally:
        monkeypatch.undo()
        verdicts.code_key.cache_clear()
    sources = {p.name for p in Path(verdicts.__file__).parent.glob("*.py")}
    assert {"asl.py", "schema.py", "placeholders.py", "load.py", "catalog.py", "verdicts.py"} <= sources


def test_a_damaged_cache_is_a_miss(folder, tmp_path):
    cache = tmp_path / "pipeline-verdicts.json"
    cold = catalog(folder, None)
    for junk in (
        "",
        "[]",
        '{"key": 1}',
        "{not json",
        json.dumps({"key": verdicts.code_key(), "files": {"x": 1, "y": {}}}),
    ):
        cache.write_text(junk)
        assert catalog(folder, cache) == cold
    data = json.loads(cache.read_text())
    data["files"] = {key: [[["too", "few"]], []] for key in data["files"]}
    cache.write_text(json.dumps(data))
    assert catalog(folder, cache) == cold


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_NO_CACHE", raising=False)
    root = write_pipelines_project(tmp_path / "p")
    yield root
    remove_state_dir(load_project(root).state_dir)


@pytest.mark.parametrize("off", [["--no-cache"], "TOOLKIT_NO_CACHE"])
def test_no_cache_neither_reads_nor_writes_verdicts(project, off):
    cache = load_project(project).state_dir / "cache" / "pipeline-verdicts.json"
    _LAST.clear()
    assert invoke(project, "pipelines", "validate").exit_code == 0
    assert cache.is_file()
    kept = mark_every_verdict(cache)
    assert kept > 0
    _LAST.clear()
    marked_run = invoke(project, "pipelines", "validate")
    assert marked_run.exit_code == 1 and MARK in marked_run.output  # the cache is what a warm run reports
    before = cache.read_bytes()
    _LAST.clear()
    args = off if isinstance(off, list) else []
    env = {off: "1"} if isinstance(off, str) else None
    uncached = invoke(project, *args, "pipelines", "validate", env=env)
    assert uncached.exit_code == 0 and MARK not in uncached.output
    assert cache.read_bytes() == before
    cache.unlink()
    _LAST.clear()
    assert invoke(project, *args, "pipelines", "validate", env=env).exit_code == 0
    assert not cache.exists()
