"""A passed validation of an environment is kept while everything it read is byte for byte the same:
each input changed alone (a pipeline, a var file, a stack file, a migration, a setting) validates again,
and a broken file after a pass is refused, never waved through from the cache."""

from __future__ import annotations

import json

import pytest

from tests.projects import free_port, remove_state_dir, write_local_project
from toolkit.deploy import validation
from toolkit.deploy.context import Context
from toolkit.errors import ValidationFailed
from toolkit.migrations import known_files
from toolkit.project.loader import load_project


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(known_files, "RACY_SECONDS", -3600.0)
    monkeypatch.delenv("TOOLKIT_NO_CACHE", raising=False)
    root = write_local_project(tmp_path / "p", port=free_port(), with_pipelines=True)
    yield root
    remove_state_dir(load_project(root).state_dir)


@pytest.fixture
def validations(monkeypatch) -> list[str]:
    """Each time the pipelines and var files are validated for real (the function is called through)."""
    seen: list[str] = []
    real = validation.validate_for_environments

    def spy(project, names):
        seen.append(",".join(names))
        return real(project, names)

    monkeypatch.setattr(validation, "validate_for_environments", spy)
    return seen


def validate(root, **context) -> None:
    ctx = Context(project=load_project(root), **context)
    validation.validate_databases(ctx, ctx.project.environment("local"))


def test_an_unchanged_environment_is_validated_once(root, validations):
    validate(root)
    validate(root)
    assert validations == ["local"]
    validate(root, no_cache=True)
    assert validations == ["local", "local"]


@pytest.mark.parametrize(
    "change",
    ["pipeline", "var file", "stack file", "migration", "setting"],
)
def test_each_input_changed_alone_validates_again(root, validations, change):
    validate(root)
    if change == "pipeline":
        path = root / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
        data = json.loads(path.read_text())
        data["Comment"] = "changed"
        path.write_text(json.dumps(data))
    elif change == "var file":
        path = root / "tfvars" / "local.tfvars.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "project": "other"}))
    elif change == "stack file":
        with (root / "terraform" / "local" / "infra" / "main.tf").open("a") as handle:
            handle.write("\n# a comment\n")
    elif change == "migration":
        path = sorted((root / "sql").glob("V*.sql"))[-1]
        path.write_text(path.read_text() + "\n-- a comment\n")
    else:
        with (root / "toolkit.toml").open("a") as handle:
            handle.write('\n[migrations]\nplaceholders = { region = "eu" }\n')
    validate(root)
    assert validations == ["local", "local"]


def test_a_broken_pipeline_after_a_pass_is_refused(root, validations):
    validate(root)
    path = root / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    data = json.loads(path.read_text())
    data["StartAt"] = "NoSuchState"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationFailed, match="pipelines are not valid"):
        validate(root)


def test_the_catalog_is_loaded_again_when_a_pipeline_file_changes(root):
    from toolkit.pipelines.validate import catalog

    project = load_project(root)
    first = catalog(project)
    assert catalog(project) is first
    path = root / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    data = json.loads(path.read_text())
    data["Comment"] = "changed"
    path.write_text(json.dumps(data))
    again = catalog(project)
    assert again is not first
    assert next(p for p in again.pipelines if p.name == "orders_etl").data["Comment"] == "changed"
