"""`pipelines render` and its output folder: only what toolkit wrote is ever removed, sources are refused,
and a folder that cannot be written is a clear error (exit 3), not a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.projects import write_pipelines_project
from toolkit.cli import app
from toolkit.errors import ConfigError, GuardRefused
from toolkit.pipelines.outfolder import MANIFEST
from toolkit.pipelines.rendering import render
from toolkit.project.loader import load_project
from toolkit.project.values import Value, Values, tfvars_values

pytestmark = pytest.mark.slow
OUTPUTS = {
    "data_bucket": "demo-dev-data",
    "event_stream": "demo-dev-events",
    "database": {"host": "db.internal", "port": 5432, "name": "demo", "username": "demo_app"},
    "databases": {"analytics": {"host": "dw.internal", "port": 5432, "name": "analytics", "username": "dw_app"}},
    "glue_database": "demo_dev",
    "glue_connection": "demo-dev-database",
}


def dev_values(project) -> Values:
    items = tfvars_values(project.environment("dev"), project.root)
    items.update({name: Value(name, value, f"output infra.{name}") for name, value in OUTPUTS.items()})
    return Values("dev", items)


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_render_into_a_folder_with_other_files_removes_none_of_them(tmp_path):
    project = load_project(write_pipelines_project(tmp_path / "p"))
    out = tmp_path / "shared-out"
    (out / "glue").mkdir(parents=True)
    (out / "glue" / "handwritten.json").write_text("{}")
    (out / "notes").mkdir()
    (out / "notes" / "keep.json").write_text("[]")
    (out / "stepfunctions").mkdir()
    (out / "stepfunctions" / "other_team.json").write_text('{"x": 1}')

    render(project, dev_values(project), out)
    files = tree(out)
    assert files["glue/handwritten.json"] == "{}" and files["notes/keep.json"] == "[]"
    assert files["stepfunctions/other_team.json"] == '{"x": 1}'
    assert json.loads(files[MANIFEST])["files"] == sorted(
        f
        for f in files
        if f not in (MANIFEST, "glue/handwritten.json", "notes/keep.json", "stepfunctions/other_team.json")
    )

    (project.pipelines_dir / "firehose" / "events_to_bucket.firehose.json").unlink()
    render(project, dev_values(project), out)
    after = tree(out)
    assert "firehose/events_to_bucket.json" not in after  # ours, and its pipeline is gone
    assert {"glue/handwritten.json", "notes/keep.json", "stepfunctions/other_team.json"} <= set(after)
    assert "firehose/events_to_bucket.json" not in json.loads(after[MANIFEST])["files"]


def test_a_render_folder_from_before_manifests_is_pruned_only_inside_the_state_folder(tmp_path):
    project = load_project(write_pipelines_project(tmp_path / "p"))
    legacy = project.state_dir / "dev" / "rendered"
    (legacy / "glue").mkdir(parents=True)
    (legacy / "glue" / "removed_job.json").write_text("{}")
    render(project, dev_values(project), legacy)
    assert not (legacy / "glue" / "removed_job.json").exists()


@pytest.mark.parametrize("where", ["pipelines", "pipelines/glue", "tfvars", "."])
def test_render_refuses_the_source_folders_and_deletes_nothing(tmp_path, where):
    root = write_pipelines_project(tmp_path / "p")
    if where == ".":
        (root / "toolkit.toml").write_text((root / "toolkit.toml").read_text().replace(
            '[project]\nname = "demo"', '[project]\nname = "demo"\npipelines = "glue"'))  # fmt: skip
        (root / "pipelines").rename(root / "glue")
    before = tree(root)
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "render", "dev", "--out", str(root / where)])
    assert result.exit_code == 3, result.output
    assert "refusing to render into" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.output
    assert tree(root) == before
    with pytest.raises(GuardRefused):
        render(load_project(root), dev_values(load_project(root)), root / where)


def test_render_into_a_file_or_an_unwritable_folder_is_a_configuration_error(tmp_path):
    root = write_pipelines_project(tmp_path / "p")
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "render", "dev", "--out", str(a_file)])
    assert result.exit_code == 3, result.output
    assert "is a file, not a folder" in result.stderr and "internal error" not in result.stderr
    project = load_project(root)
    with pytest.raises(ConfigError, match="cannot write the rendered pipelines"):
        render(project, dev_values(project), a_file / "below")


def test_a_problem_found_only_once_rendered_names_the_source_file_line_and_pointer(tmp_path):
    from toolkit.errors import ValidationFailed

    project = load_project(write_pipelines_project(tmp_path / "p"))
    values = dev_values(project)
    values.items["project"] = Value("project", "x" * 300, "tfvars/dev.tfvars.json")  # Name: at most 255
    with pytest.raises(ValidationFailed) as failed:
        render(project, values, tmp_path / "out")
    lines = [p for p in failed.value.problems if "glue/orders_transform" in p]
    assert lines == [
        "pipelines/glue/orders_transform.glue-job.json:3:3 [dev]: /Name: is 321 characters long; at most 255 "
        "(once rendered) (maxLength)"
    ]
    assert not (tmp_path / "out").exists()


def test_render_before_the_stacks_are_applied_says_which_stack_and_what_to_run(tmp_path):
    root = write_pipelines_project(tmp_path / "p")
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "render", "dev", "--out", str(tmp_path / "o")])
    assert result.exit_code == 64, result.output
    assert "stack 'infra' has no state in 'dev' yet" in result.stderr
    assert (
        "the pipelines use the outputs data_bucket (infra), database (infra), databases (infra), "
        "glue_connection (infra), glue_database (infra)\n" in result.stderr
    )
    assert "hint: run `toolkit env up dev` first" in result.stderr
    assert "add 'data_bucket' to its tfvars" not in result.stderr


def test_names_written_differently_that_render_alike_are_reported_with_their_source(tmp_path):
    from toolkit.errors import ValidationFailed

    root = write_pipelines_project(tmp_path / "p")
    for name in ("orders_load.glue-job.json", "orders_nightly.glue-workflow.json"):  # the job and who runs it
        path = root / "pipelines" / "glue" / name
        path.write_text(path.read_text().replace("@@{project}-@@{environment}-orders-load", "@@{alias}"))
    project = load_project(root)
    values = dev_values(project)
    values.items["alias"] = Value("alias", "demo-dev-orders-transform", "tfvars/dev.tfvars.json")
    with pytest.raises(ValidationFailed) as failed:
        render(project, values, tmp_path / "out")
    assert [p.split(": /")[0] for p in failed.value.problems if "aws:unique-name" in p] == [
        "pipelines/glue/orders_load.glue-job.json:3:3 [dev]",
        "pipelines/glue/orders_transform.glue-job.json:3:3 [dev]",
    ]


def test_render_help_names_the_folder_it_really_defaults_to(tmp_path):
    from toolkit.deploy.context import Context

    result = CliRunner().invoke(app, ["pipelines", "render", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert ".toolkit/ENV/rendered" in result.stdout and ".toolkit/ENV/pipelines" not in result.stdout

    project = load_project(write_pipelines_project(tmp_path / "p"))
    assert Context(project).paths.rendered("dev") == project.state_dir / "dev" / "rendered"
