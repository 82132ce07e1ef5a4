import pytest

from toolkit.errors import ConfigError
from toolkit.terraform.outputs import Output, database_outputs

DB = {
    "engine": "postgres",
    "host": "127.0.0.1",
    "port": 5432,
    "name": "orders",
    "username": "app",
    "password_secret_arn": None,
    "password_file": ".toolkit/pw",
}
ONE = {"default": "postgres"}
TWO = {"orders": "postgres", "analytics": "postgres"}


def outputs(value):
    return {"database": Output("database", value, False)}


def database_output(raw, **where):
    return database_outputs(raw, names=ONE, **where)["default"]


def test_valid_database_output():
    assert database_output(outputs(DB), stack="infra", environment="qa").port == 5432


def test_missing_output_names_stack_and_environment():
    with pytest.raises(
        ConfigError, match=r"stack 'infra' \(environment 'qa'\) has no output 'databases' or 'database'"
    ):
        database_output({}, stack="infra", environment="qa")


def test_missing_and_mistyped_attributes():
    with pytest.raises(ConfigError, match="lacks the attribute 'username'"):
        database_output(outputs({k: v for k, v in DB.items() if k != "username"}), stack="infra", environment="qa")
    with pytest.raises(ConfigError, match=r"'database.port' must be int, not str"):
        database_output(outputs({**DB, "port": "5432"}), stack="infra", environment="qa")
    with pytest.raises(ConfigError, match="engine 'oracle' is not supported"):
        database_output(outputs({**DB, "engine": "oracle"}), stack="infra", environment="qa")
    with pytest.raises(ConfigError, match="engine 'oracle' is not supported"):
        database_outputs(outputs({**DB, "engine": "oracle"}), stack="s", environment="e", names={"x": "oracle"})


def test_mysql_is_an_engine():
    assert database_output(outputs({**DB, "engine": "mysql"}), stack="infra", environment="qa").engine == "mysql"


def test_databases_map_gives_every_declared_database():
    raw = {"databases": Output("databases", {"orders": DB, "analytics": {**DB, "name": "analytics"}}, False)}
    found = database_outputs(raw, stack="infra", environment="qa", names=TWO)
    assert list(found) == ["orders", "analytics"]
    assert found["analytics"].name == "analytics"


def test_databases_map_wins_over_the_shorthand():
    raw = {**outputs({**DB, "name": "other"}), "databases": Output("databases", {"default": DB}, False)}
    assert database_output(raw, stack="infra", environment="qa").name == "orders"


def test_a_declared_database_missing_from_the_map_is_named():
    raw = {"databases": Output("databases", {"orders": DB}, False)}
    with pytest.raises(ConfigError, match=r"output 'databases' lacks 'analytics' \(it has 'orders'\)"):
        database_outputs(raw, stack="infra", environment="qa", names=TWO)
    with pytest.raises(ConfigError, match=r"'databases.orders.port' must be int"):
        database_outputs(
            {"databases": Output("databases", {"orders": {**DB, "port": "x"}}, False)},
            stack="infra", environment="qa", names={"orders": "postgres"},
        )  # fmt: skip


def test_the_shorthand_cannot_stand_for_several_databases():
    with pytest.raises(ConfigError, match=r"has no output 'databases'\n") as caught:
        database_outputs(outputs(DB), stack="infra", environment="qa", names=TWO)
    assert "{ orders = {...}, analytics = {...} }" in caught.value.hint


def test_one_database_not_in_the_map_is_the_shorthand():
    raw = {**outputs({**DB, "name": "shorthand"}), "databases": Output("databases", {"orders": DB}, False)}
    assert database_output(raw, stack="infra", environment="qa").name == "shorthand"
    with pytest.raises(ConfigError, match=r"output 'databases' lacks 'default'"):
        database_output({"databases": Output("databases", {"orders": DB}, False)}, stack="infra", environment="qa")
