"""Caches live under the state folder, and `--no-cache` / TOOLKIT_NO_CACHE=1 turn every one of them off."""

from __future__ import annotations

import pytest

from tests.projects import free_port, remove_state_dir, write_local_project
from toolkit.deploy.context import Context
from toolkit.deploy.validation import load_migrations, migration_cache_name
from toolkit.migrations import known_files
from toolkit.project.loader import load_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(known_files, "RACY_SECONDS", -3600.0)  # the copied files count as old
    monkeypatch.delenv("TOOLKIT_NO_CACHE", raising=False)
    root = write_local_project(tmp_path / "p", port=free_port())
    loaded = load_project(root)
    yield loaded
    remove_state_dir(loaded.state_dir)


def test_the_migration_cache_is_under_the_state_folder(project):
    ctx = Context(project=project)
    load_migrations(ctx)
    assert (project.state_dir / "cache" / migration_cache_name(project.sql_dir)).is_file()
    assert ctx.cache_file("x") == project.state_dir / "cache" / "x"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_no_cache_keeps_and_uses_nothing(project, monkeypatch, how):
    load_migrations(Context(project=project))  # a cache the next run must ignore
    if how == "env":
        monkeypatch.setenv("TOOLKIT_NO_CACHE", "1")
    ctx = Context(project=project, no_cache=how == "flag")
    assert not ctx.caching and ctx.cache_file("migration-files.json") is None
    cache = project.state_dir / "cache" / migration_cache_name(project.sql_dir)
    cache.unlink()
    load_migrations(ctx)
    assert not cache.exists()


def test_the_flag_reaches_the_context(project, monkeypatch):
    from typer.testing import CliRunner

    from toolkit.cli import app
    from toolkit.cli.invocation import OPTIONS, context

    runner = CliRunner()
    runner.invoke(app, ["--no-cache", "-C", str(project.root), "db", "lint"])
    assert OPTIONS.no_cache is True
    monkeypatch.setattr(OPTIONS, "project", project.root)
    assert context().caching is False
    runner.invoke(app, ["-C", str(project.root), "db", "lint"])
    assert context().caching is True
