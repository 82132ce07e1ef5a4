"""toolkit.toml errors name the file, the key and the fix. (Writes temp files: the config reader's input.)"""

from __future__ import annotations

import pytest

from toolkit.errors import ConfigError, ExitCode, UnknownEnvironment
from toolkit.project.loader import load_project

GOOD = """
stacks = ["infra"]
[environments.local]
stacks = { infra = "stack" }
backend = { type = "local" }
var_files = ["local.tfvars.json"]
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text("")
    (tmp_path / "tfvars").mkdir()
    (tmp_path / "tfvars" / "local.tfvars.json").write_text("{}")
    return tmp_path


def load(project, text):
    (project / "toolkit.toml").write_text(text)
    return load_project(project)


def error_of(project, text) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(project, text)
    assert info.value.exit_code == ExitCode.CONFIG
    return info.value


def test_good_config_resolves_paths(project):
    loaded = load(project, GOOD)
    env = loaded.environment("local")
    assert env.stacks == {"infra": project / "stack"}
    assert env.var_files == (project / "tfvars" / "local.tfvars.json",)
    assert loaded.sql_dir == project / "sql" and loaded.state_dir == project / ".toolkit"
    assert loaded.terraform.lock_timeout == "5m"


def test_unknown_environment_lists_known_ones(project):
    with pytest.raises(UnknownEnvironment) as info:
        load(project, GOOD).environment("prd")
    assert str(info.value).startswith("unknown environment 'prd' (known: local)")
    assert info.value.exit_code == ExitCode.USAGE


def test_toml_syntax_error_names_line(project):
    err = error_of(project, "stacks = [\n")
    assert "toolkit.toml: not valid TOML" in str(err) and "line" in str(err)


def test_typo_in_a_key_is_an_error_not_a_default(project):
    err = error_of(project, GOOD + "protectd = true\n")
    assert "toolkit.toml:environments.local.protectd: unknown key" in str(err)
    assert "protected" in err.hint


def test_missing_stack_directory(project):
    err = error_of(project, GOOD.replace('infra = "stack"', 'infra = "nowhere"'))
    assert "environments.local.stacks.infra: directory" in str(err) and "does not exist" in str(err)


def test_stack_directory_without_terraform_files(project):
    (project / "empty").mkdir()
    err = error_of(project, GOOD.replace('infra = "stack"', 'infra = "empty"'))
    assert "environments.local.stacks.infra: directory" in str(err) and "holds no Terraform file" in str(err)


def test_missing_var_file(project):
    err = error_of(project, GOOD.replace("local.tfvars.json", "other.tfvars.json"))
    assert "environments.local.var_files[0]" in str(err)


def test_environment_must_map_every_stack(project):
    err = error_of(project, GOOD.replace('stacks = ["infra"]', 'stacks = ["infra", "pipelines"]'))
    assert "must map exactly the stacks ['infra', 'pipelines']; missing ['pipelines']" in str(err)


def test_bad_backend_and_engine_and_duration(project):
    assert "backend.type: 'gcs' is not a supported backend" in str(
        error_of(project, GOOD.replace('type = "local"', 'type = "gcs"'))
    )
    assert "terraform.engine: unknown engine 'terrafrom'" in str(
        error_of(project, GOOD + '[terraform]\nengine = "terrafrom"\n')
    )
    assert "terraform.lock_timeout: '5 minutes' is not a duration" in str(
        error_of(project, GOOD + '[terraform]\nlock_timeout = "5 minutes"\n')
    )


def test_s3_backend_needs_bucket(project):
    err = error_of(project, GOOD.replace('{ type = "local" }', '{ type = "s3", region = "eu-west-1" }'))
    assert "backend.bucket: must be a non-empty string (required)" in str(err)


def test_bad_environment_name_and_history_table(project):
    err = error_of(project, GOOD.replace("environments.local", "environments.Local_1"))
    assert "environment name 'Local_1' is not valid" in str(err)
    err = error_of(project, GOOD + '[migrations]\nhistory_table = "x; drop"\n')
    assert "migrations.history_table: 'x; drop' is not a plain SQL identifier" in str(err)


def test_no_config_found(tmp_path):
    with pytest.raises(ConfigError, match="no toolkit.toml in"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"a": 1, "a": 2}', "not valid JSON: the key 'a' appears twice in one object"),
        ('{"a": NaN}', "not valid JSON: NaN is not a JSON number"),
        ('{"a": "\\ud800"}', "holds a lone surrogate escape"),
        ('{"a": ' + "9" * 5000 + "}", "not valid JSON: Exceeds the limit (4300 digits)"),
    ],
)
def test_var_files_are_strict_json(tmp_path, body, message):
    from toolkit.project.varfiles import read_var_values

    path = tmp_path / "tfvars" / "dev.tfvars.json"
    path.parent.mkdir()
    path.write_text(body)
    with pytest.raises(ConfigError) as raised:
        read_var_values(path, tmp_path)
    assert raised.value.message.startswith(f"tfvars/dev.tfvars.json: {message}")
    assert raised.value.exit_code == ExitCode.CONFIG
