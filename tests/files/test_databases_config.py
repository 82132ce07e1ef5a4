"""[databases.<name>] in toolkit.toml (issue 16): order, folders, per-database settings, and the errors of a
wrong table, each naming its key. (Writes temp files: the config reader's input.)"""

from __future__ import annotations

import pytest

from toolkit.errors import ConfigError, UsageError
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
    (project / "toolkit.toml").write_text(GOOD + text)
    return load_project(project)


def message(project, text) -> str:
    with pytest.raises(ConfigError) as info:
        load(project, text)
    return str(info.value)


def test_the_one_database_form_is_one_database_named_default(project):
    loaded = load(project, '[migrations]\nhistory_table = "h"\n')
    assert [(d.name, d.engine, d.sql_dir.name) for d in loaded.databases] == [("default", "postgres", "sql")]
    assert loaded.migrations is loaded.databases[0].settings and loaded.migrations.history_table == "h"
    named = load(project, '[migrations]\ndatabase = "orders"\n')
    assert named.databases[0].name == "orders" and named.databases[0].settings.key == "migrations"


def test_databases_migrate_in_the_order_written_unless_an_order_says_otherwise(project):
    loaded = load(
        project,
        '[databases.orders]\n[databases.analytics]\nsql = "warehouse/sql"\nhistory_table = "dw_history"\n'
        "[databases.audit]\norder = -1\n",
    )
    assert [d.name for d in loaded.databases] == ["audit", "orders", "analytics"]
    orders, analytics = loaded.database("orders"), loaded.database("analytics")
    assert orders.sql_dir == (project / "sql" / "orders").resolve()
    assert analytics.sql_dir == (project / "warehouse" / "sql").resolve()
    assert analytics.settings.history_table == "dw_history" and orders.settings.history_table == "flyway_schema_history"
    assert analytics.settings.key == "databases.analytics"
    assert loaded.sql_dir == loaded.databases[0].sql_dir  # what a verb without a database uses: the first
    with pytest.raises(UsageError, match="no database 'nope'") as info:
        loaded.selected("nope")
    assert info.value.hint == "declared: audit, orders, analytics"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[migrations]\n[databases.orders]\n", "migrations: cannot be declared beside [databases]"),
        ("[databases]\n", "databases: declares no database"),
        ("[databases.Orders]\n", "databases.Orders: 'Orders' is not a database name"),
        (
            '[databases.orders]\nengine = "oracle"\n',
            "databases.orders.engine: 'oracle' is not an engine toolkit migrates",
        ),
        ('[databases.orders]\nhistory_tabel = "h"\n', "databases.orders.history_tabel: unknown key"),
        ('[databases.orders]\norder = "first"\n', "databases.orders.order: must be a whole number"),
        ('[databases.orders]\nschema = "my schema"\n', "databases.orders.schema: 'my schema' is not a plain SQL"),
        ('[databases.orders.lint]\nseverity = { rename = "loud" }\n', "databases.orders.lint.severity.rename"),
        ('[migrations]\ndatabase = "Main"\n', "migrations.database: 'Main' is not a database name"),
        ("[databases.orders]\nsql = 3\n", "databases.orders.sql: must be a non-empty string"),
    ],
)
def test_a_wrong_database_table_names_its_key(project, text, expected):
    assert expected in message(project, text)
