"""`${name}` placeholders: values, dotted paths, built-ins, non-string values, masking."""

from __future__ import annotations

from toolkit.migrations.placeholders import Placeholders, fill, names_in, unknown
from toolkit.project.values import Value, Values
from toolkit.support import masking

VALUES = Values(
    "dev",
    {
        "database": Value("database", {"host": "db.internal", "port": 5432}, "output infra.database"),
        "replicas": Value("replicas", 2, "tfvars/dev.tfvars.json"),
        "audit": Value("audit", True, "tfvars/dev.tfvars.json"),
        "reader_password": Value("reader_password", "pa55-word-x", "output infra.reader_password", True),
    },
)
PLACEHOLDERS = Placeholders(VALUES, {"flyway:defaultSchema": "public"})


def test_fill_dotted_paths_numbers_booleans_and_builtins():
    text = "-- ${database.host}:${database.port} x${replicas} ${audit} ${flyway:defaultSchema}"
    assert fill(text, PLACEHOLDERS) == ("-- db.internal:5432 x2 true public",) * 2


def test_sensitive_values_run_but_are_shown_masked_and_registered():
    run, shown = fill("PASSWORD '${reader_password}'", PLACEHOLDERS)
    assert run == "PASSWORD 'pa55-word-x'"
    assert shown == "PASSWORD '***'"
    assert masking.mask("echo pa55-word-x") == "echo ***"


def test_unknown_names_and_text_without_placeholders():
    assert unknown("${database.host} ${database.user} ${nope} $1 $${x", PLACEHOLDERS) == [
        "database.user",
        "nope",
    ]
    assert names_in("SELECT $1, $tag$ body $tag$") == set()
    assert unknown("${anything}", Placeholders()) == ["anything"]
