"""Pipelines in projects with several environments: bindings checked in every one, from static
declarations (no Terraform run), and the `toolkit pipelines` commands in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.projects import ENVIRONMENTS, write_pipelines_project
from toolkit.cli import app
from toolkit.pipelines.validate import validate_for_environments
from toolkit.project.loader import load_project

pytestmark = pytest.mark.slow


def use_placeholder(root: Path, name: str) -> None:
    """Make the example Glue job read one more value, from tfvars."""
    path = root / "pipelines" / "glue" / "orders_transform.glue-job.json"
    job = json.loads(path.read_text())
    job["DefaultArguments"]["--database"] = f"@@{{{name}}}"
    path.write_text(json.dumps(job, indent=2))


def test_the_example_pipelines_are_bound_in_every_environment(tmp_path):
    project = load_project(write_pipelines_project(tmp_path / "p"))
    assert validate_for_environments(project, ENVIRONMENTS) == []


def test_a_value_missing_in_one_environment_fails_there_only(tmp_path):
    root = write_pipelines_project(tmp_path / "p", drop_from="qa")
    use_placeholder(root, "db_name")
    problems = validate_for_environments(load_project(root), ENVIRONMENTS)
    errors = [p for p in problems if p.is_error]
    assert [(p.environment, p.file, p.pointer, p.keyword) for p in errors] == [
        (
            "qa",
            "pipelines/glue/orders_transform.glue-job.json",
            "/DefaultArguments/--database",
            "values:unbound",
        )
    ]
    assert errors[0].line > 1
    assert validate_for_environments(load_project(root), ["local", "dev"]) == []


def test_cli_validate_reports_every_problem_of_every_file_and_exits_1(tmp_path):
    root = write_pipelines_project(tmp_path / "p", drop_from="dev")
    use_placeholder(root, "db_name")
    broken = root / "pipelines" / "stepfunctions" / "broken.asl.json"
    broken.write_text('{\n  "StartAt": "A",\n  "StartAt": "B",\n  "States": {}\n}\n')
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate"])
    assert result.exit_code == 1, result.output
    assert "pipelines/stepfunctions/broken.asl.json:3:3: /StartAt: duplicate key 'StartAt'" in result.stdout
    assert "pipelines/glue/orders_transform.glue-job.json:" in result.stdout
    assert "[dev]: /DefaultArguments/--database: @@{db_name} is not bound in environment 'dev'" in result.stdout
    assert "7 pipeline file(s), environments local, dev, qa: 2 error(s), 0 warning(s)" in result.stdout

    as_json = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate", "local", "--json"])
    report = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and report["ok"] is False and report["environments"] == ["local"]
    assert [p["keyword"] for p in report["problems"]] == ["json:duplicate-key"]


def test_cli_validate_rejects_an_unknown_environment_as_usage(tmp_path):
    root = write_pipelines_project(tmp_path / "p")
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate", "prod"])
    assert result.exit_code == 64
    assert "unknown environment 'prod'" in result.stderr


def test_cli_graph_and_fingerprint(tmp_path):
    root = write_pipelines_project(tmp_path / "p")
    graph = CliRunner().invoke(app, ["-C", str(root), "pipelines", "graph", "orders_etl"])
    assert graph.exit_code == 0 and graph.stdout.startswith("stateDiagram-v2\n")
    assert "s1 --> s2" in graph.stdout
    missing = CliRunner().invoke(app, ["-C", str(root), "pipelines", "graph", "nope"])
    assert missing.exit_code == 64 and "no pipeline named 'nope'" in missing.stderr
    prints = CliRunner().invoke(app, ["-C", str(root), "pipelines", "fingerprint", "--json"])
    rows = json.loads(prints.stdout)
    assert [r["name"] for r in rows] == [
        "events_to_bucket", "orders_etl", "orders_export", "orders_load", "orders_nightly", "orders_transform"
    ]  # fmt: skip
    assert all(r["fingerprint"].startswith("sha256:") for r in rows)


def test_render_writes_what_the_stacks_read_and_same_code_gives_same_fingerprints(tmp_path):
    """Two environments rendered from real Terraform outputs: different values, the same code."""
    root = write_pipelines_project(tmp_path / "p")
    runner = CliRunner()
    results = {}
    try:
        for env in ("local", "dev"):
            up = runner.invoke(app, ["-C", str(root), "env", "up", env])
            assert up.exit_code == 0, up.output
            out = tmp_path / f"out-{env}"
            argv = ["-C", str(root), "pipelines", "render", env, "--out", str(out), "--json"]
            rendered = runner.invoke(app, argv)
            assert rendered.exit_code == 0, rendered.output
            results[env] = (out, json.loads(rendered.stdout))
    finally:
        for env in ("dev", "local"):
            runner.invoke(app, ["-C", str(root), "env", "down", env])
    out, result = results["local"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json")) == [
        "datapipeline/orders_export.json", "firehose/events_to_bucket.json",
        "glue-workflows/orders_nightly.json", "glue/orders_load.json", "glue/orders_transform.json",
        "stepfunctions/orders_etl.json",
    ]  # fmt: skip
    job = json.loads((out / "glue" / "orders_transform.json").read_text())
    assert job["Name"] == "demo-local-orders-transform"
    assert job["Command"]["ScriptLocation"] == "s3://demo-local-data/glue/scripts/orders_transform.py"
    assert "@@{" not in "".join(p.read_text() for p in out.rglob("*.json"))
    dev_out, dev_result = results["dev"]
    assert json.loads((dev_out / "glue" / "orders_transform.json").read_text())["Name"] == "demo-dev-orders-transform"
    fingerprints = {env: {f["name"]: f["fingerprint"] for f in r["files"]} for env, (_, r) in results.items()}
    assert fingerprints["local"] == fingerprints["dev"]
    assert [f["sha256"] for f in result["files"]] != [f["sha256"] for f in dev_result["files"]]

    again = runner.invoke(app, ["-C", str(root), "pipelines", "fingerprint", "--json"])
    assert {r["name"]: r["fingerprint"] for r in json.loads(again.stdout)} == fingerprints["local"]


def test_render_api_is_stable_shows_masked_diffs_and_removes_stale_files(tmp_path):
    from toolkit.errors import ValidationFailed
    from toolkit.pipelines.rendering import render
    from toolkit.project.values import Value, Values, tfvars_values
    from toolkit.support import masking

    root = write_pipelines_project(tmp_path / "p")
    project = load_project(root)
    items = tfvars_values(project.environment("dev"), root)
    outputs = {
        "data_bucket": "demo-dev-data",
        "event_stream": "demo-dev-events",
        "database": {"host": "db.internal", "port": 5432, "name": "demo", "username": "demo_app"},
        "databases": {"analytics": {"host": "db.internal", "port": 5432, "name": "dw", "username": "dw_app"}},
        "glue_database": "demo_dev",
        "glue_connection": "demo-dev-database",
    }
    for name, value in outputs.items():
        items[name] = Value(name, value, f"output infra.{name}")
    out = tmp_path / "out"

    first = render(project, Values("dev", items), out)
    assert all(f.changed for f in first.files) and len(first.files) == 6
    again = render(project, Values("dev", items), out)
    assert not again.changed and all(f.diff == () for f in again.files)

    masking.register("db.internal")  # a printed diff masks whatever the secret registry knows
    items["database"] = Value("database", dict(outputs["database"], host="db2.internal"), "output infra.database")
    moved = {"analytics": dict(outputs["databases"]["analytics"], host="db2.internal")}
    items["databases"] = Value("databases", moved, "output infra.databases")
    changed = render(project, Values("dev", items), out)
    changed_files = {f.file: f for f in changed.files if f.changed}
    assert sorted(changed_files) == ["datapipeline/orders_export.json", "glue/orders_load.json"]
    load = changed_files["glue/orders_load.json"]
    assert '-    "--db_host": "***",' in load.diff and '+    "--db_host": "db2.internal",' in load.diff

    (root / "pipelines" / "firehose" / "events_to_bucket.firehose.json").unlink()
    render(project, Values("dev", items), out)
    assert not (out / "firehose" / "events_to_bucket.json").exists()

    del items["data_bucket"]
    with pytest.raises(ValidationFailed) as failed:
        render(project, Values("dev", items), out)
    assert "@@{data_bucket} is not bound in environment 'dev'" in str(failed.value)


def add_ephemeral_class(root: Path, values: dict) -> None:
    (root / "tfvars" / "ephemeral.tfvars.json").write_text(json.dumps(values, indent=2))
    with (root / "toolkit.toml").open("a") as config:
        config.write(
            '\n[ephemeral]\npatterns = ["pr-<n>"]\nttl = "2h"\nstacks = { infra = "terraform/local/infra" }\n'
            'backend = { type = "local" }\nvar_files = ["ephemeral.tfvars.json"]\n'
        )


def test_every_environment_includes_the_ephemeral_class_as_one_of_its_own(tmp_path):
    root = write_pipelines_project(tmp_path / "p")
    base = json.loads((root / "tfvars" / "local.tfvars.json").read_text())
    add_ephemeral_class(root, {k: v for k, v in base.items() if k != "db_name"})
    use_placeholder(root, "db_name")
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate"])
    assert result.exit_code == 1, result.output
    assert "[ephemeral]: /DefaultArguments/--database: @@{db_name} is not bound in environment 'ephemeral'" in (
        result.stdout
    )
    assert "environments local, dev, qa, ephemeral: 1 error(s)" in result.stdout
    named = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate", "ephemeral", "pr-7", "--json"])
    report = json.loads(named.stdout)
    assert report["environments"] == ["ephemeral", "pr-7"]
    assert [p["environment"] for p in report["problems"]] == ["ephemeral", "pr-7"]


def test_a_typo_in_a_path_into_a_terraform_output_fails_validate_not_env_up(tmp_path):
    root = write_pipelines_project(tmp_path / "p")
    path = root / "pipelines" / "glue" / "orders_load.glue-job.json"
    path.write_text(path.read_text().replace("@@{databases.analytics.host}", "@@{databases.analytics.hots}"))
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate", "local"])
    assert result.exit_code == 1, result.output
    assert (
        "@@{databases.analytics.hots}: database 'analytics' has no attribute 'hots'; did you mean 'host'? "
        "(values:unbound)" in result.stdout
    )
    path.write_text(path.read_text().replace("@@{databases.analytics.hots}", "@@{databases.analytcs.host}"))
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "validate", "local"])
    assert result.exit_code == 1, result.output
    assert "output 'databases' has no attribute 'analytcs'; did you mean 'analytics'?" in result.stdout


@pytest.mark.parametrize(
    ("file", "text"),
    [
        ("stepfunctions/odd.asl.json", '"x"'),
        ("stepfunctions/odd.asl.json", '{"StartAt": "A", "States": [1]}'),
        ("glue/odd.glue-workflow.json",
         '{"Workflow": {"Name": "w"}, "Triggers": [{"Name": "t", "Type": "ON_DEMAND", "Actions": [{"JobName": ["x"]}]}]}'),
    ],
)  # fmt: skip
def test_graph_of_a_schema_invalid_file_reports_its_errors_and_exits_1(tmp_path, file, text):
    root = write_pipelines_project(tmp_path / "p")
    (root / "pipelines" / file).write_text(text)
    result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "graph", "odd"])
    assert result.exit_code == 1, result.output
    assert f"pipelines/{file} is not valid" in result.stderr and "internal error" not in result.stderr
    assert f"pipelines/{file}:1:" in result.stderr


def test_changing_a_glue_script_changes_the_fingerprint_of_the_job_that_runs_it_only(tmp_path):
    root = write_pipelines_project(tmp_path / "p")

    def prints() -> dict[str, str]:
        result = CliRunner().invoke(app, ["-C", str(root), "pipelines", "fingerprint", "--json"])
        return {row["name"]: row["fingerprint"] for row in json.loads(result.stdout)}

    before = prints()
    script = root / "pipelines" / "glue" / "scripts" / "orders_transform.py"
    script.write_text(script.read_text() + "\n# a change of job code\n")
    after = prints()
    assert [name for name in before if before[name] != after[name]] == ["orders_transform"]
    script.unlink()
    assert prints()["orders_transform"] not in (before["orders_transform"], after["orders_transform"])
