"""`toolkit schema`: the JSON Schemas editors validate files with, from the installed package, with stable
`$id`s; toolkit.toml's schema accepts what the loader accepts and refuses what it refuses."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tests.projects import REPO
from toolkit.cli import app
from toolkit.errors import ConfigError
from toolkit.project.loader import load_project

GOLDEN = REPO / "tests" / "golden"
BASE = "https://dataenv-toolkit.invalid/schemas/v1/"
NAMES = ("toolkit.toml", "asl", "glue-job", "glue-workflow", "firehose", "datapipeline")


def schema(name: str) -> dict:
    result = CliRunner().invoke(app, ["schema", name])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_schema_is_listed_with_its_stable_id():
    result = CliRunner().invoke(app, ["schema", "--json"])
    assert result.exit_code == 0
    listed = {entry["name"]: entry["id"] for entry in json.loads(result.stdout)["schemas"]}
    # The ids are a contract with editors' settings: a change here must be deliberate (v2), never a slip.
    assert listed == {name: f"{BASE}{name}.schema.json" for name in NAMES}
    for name in NAMES:
        document = schema(name)
        assert document["$id"] == listed[name]
        jsonschema.Draft202012Validator.check_schema(document)


def test_an_unknown_schema_is_a_usage_error():
    result = CliRunner().invoke(app, ["schema", "toolkit"])
    assert result.exit_code == 64 and "one of toolkit.toml, asl" in result.output


def toml_errors(text: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema("toolkit.toml"))
    return [e.message for e in validator.iter_errors(tomllib.loads(text))]


@pytest.mark.parametrize(
    "config",
    [
        REPO / "toolkit.toml",
        GOLDEN / "init" / "expected" / "toolkit.toml",
        GOLDEN / "flyway" / "expected" / "toolkit.toml",
    ],
    ids=["reference", "init", "init-from-flyway"],
)
def test_the_project_files_toolkit_writes_and_ships_are_valid(config):
    assert toml_errors(config.read_text()) == []


BASE_TOML = """stacks = ["infra"]
[environments.local]
stacks = { infra = "stack" }
backend = { type = "local" }
var_files = ["local.tfvars.json"]
"""


@pytest.mark.parametrize(
    "extra",
    [
        'colour = "blue"\n',
        '[project]\nsqll = "sql"\n',
        '[terraform]\nengine = "terraformm"\n',
        '[terraform]\nlock_timeout = "5 minutes"\n',
        '[migrations]\nschema = "my schema"\n',
        '[migrations]\nout_of_order = "yes"\n',
        '[migrations.lint.severity]\nrename = "fatal"\n',
        '[migrations.lint.severity]\nrenam = "warning"\n',
        '[migrations.lint.allow]\n"V1__x.sql" = ["drop-colum"]\n',
        "[migrations.placeholders]\nreplicas = 2\n",
        '[migrations.placeholders]\n"flyway:user" = "me"\n',
        '[environments.dev]\nstacks = { infra = "stack" }\nbackend = { type = "gcs" }\n',
        '[environments.dev]\nstacks = { infra = "stack" }\nbackend = { type = "s3", bucket = "b" }\n',
        '[environments.dev]\nstacks = { infra = "stack" }\nbackend = { type = "local" }\nprotected = "yes"\n',
        '[environments.Dev]\nstacks = { infra = "stack" }\nbackend = { type = "local" }\n',
    ],
)
def test_what_the_loader_refuses_the_schema_refuses(tmp_path, extra):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text('variable "environment" { type = string }\n')
    (tmp_path / "tfvars").mkdir()
    (tmp_path / "tfvars" / "local.tfvars.json").write_text("{}")
    (tmp_path / "tfvars" / "dev.tfvars.json").write_text("{}")
    text = BASE_TOML + extra
    (tmp_path / "toolkit.toml").write_text(text)
    loaded_ok = True
    try:
        project = load_project(tmp_path)
        if project.migrations.lint_allow or project.migrations.lint_severity:
            from toolkit.deploy.context import Context
            from toolkit.deploy.migrating import lint_policy

            lint_policy(Context(project))  # rule names are checked when the lint's policy is built
    except ConfigError:
        loaded_ok = False
    assert not loaded_ok, f"the loader took {extra!r}"
    assert toml_errors(text), f"the schema took {extra!r}"


def test_a_pipeline_file_names_its_schema_for_editors(tmp_path):
    # Pipeline files may carry "$schema" (editors read it); toolkit's checks ignore it.
    document = schema("asl")
    machine = {"$schema": document["$id"], "StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    assert list(jsonschema.Draft202012Validator(document).iter_errors(machine)) == []


def test_the_schemas_come_from_the_installed_package():
    from importlib import resources

    assert resources.files("toolkit.project").joinpath("schemas", "toolkit.toml.schema.json").is_file()
    assert Path(str(resources.files("toolkit.pipelines").joinpath("schemas", "asl.schema.json"))).is_file()
