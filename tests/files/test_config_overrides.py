"""[terraform] settings that CI tunes per runner, in toolkit.toml or through the environment."""

from __future__ import annotations

import pytest

from toolkit.deploy.context import Context
from toolkit.errors import ConfigError
from toolkit.project.loader import load_project

GOOD = """
stacks = ["infra"]
[environments.local]
stacks = { infra = "stack" }
backend = { type = "local" }
var_files = ["local.tfvars.json"]
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_GRACE_PERIOD", raising=False)
    monkeypatch.delenv("TOOLKIT_LOCK_TIMEOUT", raising=False)
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text("")
    (tmp_path / "tfvars").mkdir()
    (tmp_path / "tfvars" / "local.tfvars.json").write_text("{}")
    return tmp_path


def load(project, text):
    (project / "toolkit.toml").write_text(text)
    return load_project(project)


def test_grace_period_defaults_to_30s_and_reaches_every_stack(project):
    loaded = load(project, GOOD)
    assert loaded.terraform.grace_seconds == 30
    loaded = load(project, GOOD + '[terraform]\ngrace_period = "5s"\n')
    target = Context(loaded).target(loaded.environment("local"), "infra")
    assert target.grace_seconds == 5


def test_grace_period_from_the_environment_wins(project, monkeypatch):
    monkeypatch.setenv("TOOLKIT_GRACE_PERIOD", "1500ms")
    assert load(project, GOOD + '[terraform]\ngrace_period = "5s"\n').terraform.grace_seconds == 1.5


def test_a_bad_grace_period_names_where_it_came_from(project, monkeypatch):
    with pytest.raises(ConfigError, match=r"toolkit.toml:terraform.grace_period: '30 s' is not a duration"):
        load(project, GOOD + '[terraform]\ngrace_period = "30 s"\n')
    monkeypatch.setenv("TOOLKIT_GRACE_PERIOD", "soon")
    with pytest.raises(ConfigError, match="environment variable TOOLKIT_GRACE_PERIOD: 'soon' is not a duration"):
        load(project, GOOD)


EPHEMERAL = """
[ephemeral]
patterns = ["pr-<n>", "eph-<slug>"]
max_length = {max_length}
stacks = {{ infra = "stack" }}
backend = {{ type = "local" }}
var_files = ["local.tfvars.json"]
"""


def test_a_max_length_no_name_can_meet_is_refused(project):
    with pytest.raises(ConfigError) as info:
        load(project, GOOD + EPHEMERAL.format(max_length=7))
    assert "toolkit.toml:ephemeral.max_length: 7 leaves no room for names of the pattern 'eph-<slug>'" in str(
        info.value
    )
    assert info.value.hint == "raise max_length to 8 or more, or shorten the pattern's prefix"
    assert load(project, GOOD + EPHEMERAL.format(max_length=8)).ephemeral.max_length == 8


def test_lock_timeout_from_the_environment_wins(project, monkeypatch):
    assert load(project, GOOD + '[terraform]\nlock_timeout = "5m"\n').terraform.lock_timeout == "5m"
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "20m")
    loaded = load(project, GOOD + '[terraform]\nlock_timeout = "5m"\n')
    assert Context(loaded).target(loaded.environment("local"), "infra").lock_timeout == "20m"
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "20 minutes")
    with pytest.raises(ConfigError, match="environment variable TOOLKIT_LOCK_TIMEOUT: '20 minutes' is not a duration"):
        load(project, GOOD)
