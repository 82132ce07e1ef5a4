"""The last render of an environment's pipelines is reused while everything it read is the same and the
folder still holds what it wrote: each input changed alone (a pipeline file, a value, an output, a setting,
toolkit's code, a library the checks run on), and each change to the folder (a file edited, removed or
added to the manifest), renders again; so does `--no-cache`. A broken pipeline after a cached render is
refused, never waved through."""

from __future__ import annotations

import json

import pytest

from tests.projects import free_port, remove_state_dir, write_local_project
from toolkit.deploy import render_cache, rendering
from toolkit.deploy.context import Context
from toolkit.errors import ValidationFailed
from toolkit.pipelines import outfolder
from toolkit.project.loader import load_project
from toolkit.terraform.outputs import Output

DATABASE = {"engine": "postgres", "host": "127.0.0.1", "port": 5432, "name": "demo", "username": "demo_app"}
OUTPUTS = {
    "database": DATABASE,
    "databases": {"orders": DATABASE, "analytics": {**DATABASE, "name": "analytics"}},
    "data_bucket": "demo-local-data",
    "event_stream": "demo-local-events",
    "glue_connection": "demo-local-database",
    "glue_database": "demo_local",
}


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_NO_CACHE", raising=False)
    root = write_local_project(tmp_path / "p", port=free_port(), with_pipelines=True)
    yield root
    remove_state_dir(load_project(root).state_dir)


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """Each real render (loading, checking and writing every pipeline), by environment."""
    seen: list[str] = []
    real = rendering.render

    def spy(project, values, out_dir):
        seen.append(values.environment)
        return real(project, values, out_dir)

    monkeypatch.setattr(rendering, "render", spy)
    return seen


def render(root, outputs=None, **context):
    ctx = Context(project=load_project(root), **context)
    values = {name: Output(name, value, False) for name, value in {**OUTPUTS, **(outputs or {})}.items()}
    return rendering.render_pipelines(ctx, ctx.project.environment("local"), {"infra": values})


def folder(root):
    return load_project(root).state_dir / "local" / "rendered"


def test_an_unchanged_render_is_reused_and_says_nothing_changed(root, renders):
    first = render(root)
    again = render(root)
    assert renders == ["local"]
    assert [(f.file, f.sha256, f.fingerprint) for f in again.files] == [
        (f.file, f.sha256, f.fingerprint) for f in first.files
    ]
    assert again.files and not again.changed and again.out_dir == first.out_dir
    render(root, no_cache=True)
    assert renders == ["local", "local"]


@pytest.mark.parametrize("change", ["pipeline", "var file", "output", "setting", "toolkit", "library"])
def test_each_input_changed_alone_renders_again(root, renders, change, monkeypatch):
    render(root)
    outputs = None
    if change == "pipeline":
        path = root / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "Comment": "changed"}))
    elif change == "var file":
        path = root / "tfvars" / "local.tfvars.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "project": "other"}))
    elif change == "output":
        outputs = {"data_bucket": "another-bucket"}
    elif change == "setting":
        with (root / "toolkit.toml").open("a") as handle:
            handle.write('\n[migrations]\nplaceholders = { region = "eu" }\n')
    elif change == "toolkit":  # another toolkit installed (its RECORD), or a module of a checkout edited
        monkeypatch.setattr(render_cache, "toolkit_identity", lambda: "installed 9.9.9 elsewhere")
    else:  # botocore upgraded: its models shape the checks
        real = render_cache.user_cache.installed
        monkeypatch.setattr(
            render_cache.user_cache, "installed", lambda name: "new" if name == "botocore" else real(name)
        )
    render(root, outputs)
    assert renders == ["local", "local"]
    render(root, outputs)
    assert renders == ["local", "local"]  # and kept again for the next run


@pytest.mark.parametrize("change", ["edited", "removed", "listed"])
def test_a_changed_output_folder_renders_again(root, renders, change):
    first = render(root)
    out = folder(root)
    target = out / first.files[0].file
    if change == "edited":
        target.write_text(target.read_text().replace("{", "{ ", 1))
    elif change == "removed":
        target.unlink()
    else:
        manifest = json.loads((out / outfolder.MANIFEST).read_text())
        manifest["files"].append("stepfunctions/extra.json")
        (out / outfolder.MANIFEST).write_text(json.dumps(manifest))
    again = render(root)
    assert renders == ["local", "local"]
    assert (out / first.files[0].file).read_text() == (first.out_dir / first.files[0].file).read_text()
    assert again.files[0].sha256 == first.files[0].sha256
    assert again.files[0].changed == (change != "listed")


def test_a_broken_pipeline_after_a_cached_render_is_refused(root, renders):
    render(root)
    render(root)
    path = root / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "StartAt": "NoSuchState"}))
    with pytest.raises(ValidationFailed):
        render(root)


def test_a_scratch_render_is_never_cached(root, renders, tmp_path):
    ctx = Context(project=load_project(root))
    values = {"infra": {name: Output(name, value, False) for name, value in OUTPUTS.items()}}
    for _ in range(2):
        rendering.render_pipelines(ctx, ctx.project.environment("local"), values, tmp_path / "scratch")
    assert renders == ["local", "local"]
    assert not (load_project(root).state_dir / "cache" / "rendered-local.json").exists()
