"""`${name}` placeholders: values, dotted paths, built-ins, non-string values, masking."""

from __future__ import annotations

from toolkit.migrations.placeholders import Placeholders, fill, names_in, unknown, unknown_in
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
    assert unknown("${database.host} ${database.user} ${nope} $1", PLACEHOLDERS) == ["database.user", "nope"]
    assert names_in("SELECT $1, $tag$ body $tag$") == set()
    assert unknown("${anything}", Placeholders()) == ["anything"]


def test_every_dollar_brace_is_a_placeholder_as_in_flyway_comments_and_strings_included():
    text = "-- uses ${not an identifier}\nSELECT '${1}', $${x};\n/* ${nope} */ SELECT 1;\n"
    assert unknown(text, PLACEHOLDERS) == ["1", "nope", "not an identifier", "x"]
    found = unknown_in("V1__x.sql", text + "SELECT '${unclosed';\n", PLACEHOLDERS)
    assert [(p.line, p.name, p.unclosed) for p in found] == [
        (1, "not an identifier", False),
        (2, "1", False),
        (2, "x", False),
        (3, "nope", False),
        (4, "", True),
    ]
    assert str(found[-1]) == "V1__x.sql:4: `${` opens a placeholder that no `}` closes (Flyway reads one here)"


def test_names_match_without_regard_to_case_and_suggest_the_nearest():
    assert fill("${Replicas} ${FLYWAY:DEFAULTSCHEMA}", PLACEHOLDERS)[0] == "2 public"
    (near,) = unknown_in("V1__x.sql", "SELECT ${replicsa};", PLACEHOLDERS)
    assert near.suggestion == "replicas"


def test_builtins_per_file_constants_below_values_and_replacement_switched_off():
    placeholders = Placeholders(VALUES, {"flyway:defaultSchema": "public"}, {"replicas": "9", "team": "data"})
    own = placeholders.for_file("V3__seed.sql")
    assert fill("${flyway:filename} ${replicas} ${team}", own)[0] == "V3__seed.sql 2 data"
    off = Placeholders(VALUES, enabled=False)
    assert fill("${replicas} ${nope}", off) == ("${replicas} ${nope}",) * 2
    assert unknown("${nope}", off) == [] and unknown_in("V1__x.sql", "${nope", off) == []
