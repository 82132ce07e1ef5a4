import pytest

from toolkit.errors import ConfigError
from toolkit.terraform.outputs import Output, database_output

DB = {
    "engine": "postgres",
    "host": "127.0.0.1",
    "port": 5432,
    "name": "orders",
    "username": "app",
    "password_secret_arn": None,
    "password_file": ".toolkit/pw",
}


def outputs(value):
    return {"database": Output("database", value, False)}


def test_valid_database_output():
    assert database_output(outputs(DB), stack="infra", environment="qa").port == 5432


def test_missing_output_names_stack_and_environment():
    with pytest.raises(ConfigError, match=r"stack 'infra' \(environment 'qa'\) has no output 'database'"):
        database_output({}, stack="infra", environment="qa")


def test_missing_and_mistyped_attributes():
    with pytest.raises(ConfigError, match="lacks the attribute 'username'"):
        database_output(outputs({k: v for k, v in DB.items() if k != "username"}), stack="infra", environment="qa")
    with pytest.raises(ConfigError, match=r"'database.port' must be int, not str"):
        database_output(outputs({**DB, "port": "5432"}), stack="infra", environment="qa")
    with pytest.raises(ConfigError, match="engine 'oracle' is not supported"):
        database_output(outputs({**DB, "engine": "oracle"}), stack="infra", environment="qa")


def test_mysql_is_an_engine():
    assert database_output(outputs({**DB, "engine": "mysql"}), stack="infra", environment="qa").engine == "mysql"
