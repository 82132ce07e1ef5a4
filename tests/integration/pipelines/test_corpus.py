"""Real-world definitions (../shared/corpus, read in place): every valid ASL file passes, every invalid one
fails, and every Data Pipeline sample validates or fails for the reason named here."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.pipelines import kinds
from toolkit.pipelines.load import load

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
if not CORPUS.is_dir():
    pytest.skip(f"the shared corpus is not beside the repository ({CORPUS})", allow_module_level=True)

ASL = sorted(p.name for p in (CORPUS / "asl").glob("*.json"))
DATAPIPELINE = CORPUS / "datapipeline"

# Sample -> (keywords of its problems, the reason). Anything not listed must validate cleanly.
UNDECLARED = "uses #{my...} parameters it does not declare (the sample supplies them at activation)"
DATAPIPELINE_FAILURES = {
    "json-to-dynamodb/definition.json": ({"datapipeline:ref"}, "README defect: a ref to a missing object"),
    "LoadTsvFilesInS3ToRedshift/LoadTsvFilesInS3ToRedshift.json": (
        {"datapipeline:parameter"},
        "README defect: declared as *myRedshiftPassword, used as #{myRedshiftPassword}",
    ),
    "OnDemandWithLamdaFunctions/ondemand.json": (
        {"json:syntax"},
        "not strict JSON: raw line break in a string",
    ),
    "ShellCommandWithFTP/pipeline.json": ({"json:syntax"}, "not strict JSON: raw line break in a string"),
    "RDStoRedshiftSqoop/setup/setup.json": ({"datapipeline:format"}, "API wire shape, not a definition file"),
    "SQLActivityWithTimeout/setup/setup.json": (
        {"datapipeline:format"},
        "API wire shape, not a definition file",
    ),
    "dynamo-db-export/example-parameters.json": ({"required"}, "a values file, not a definition"),
    "oracle-backup/parameters.json": ({"required"}, "a parameters file, not a definition"),
    "oracle-backup/values.json": ({"required"}, "a values file, not a definition"),
    "json-to-dynamodb/customers.json": ({"type"}, "a data file, not a definition"),
    "RDStoRedshiftSqoop/RDStoRedshiftSqoop.json": ({"datapipeline:parameter"}, UNDECLARED),
    "SimplePigActivity/pig_activity_sample.json": ({"datapipeline:parameter"}, UNDECLARED),
    "RedshiftCopyActivityFromDynamoDBTable/RedshiftCopyActivityFromDynamoDBTable.json": (
        {"datapipeline:parameter"},
        UNDECLARED,
    ),
    "DynamoDBImport/XMLtoDynamoDBImport.json": ({"datapipeline:parameter"}, UNDECLARED),
    "dynamo-db-export-as-csv/ddb-to-csv.json": ({"datapipeline:parameter"}, UNDECLARED),
    "DynamoDBExport/DynamoDBTableExport.json": (
        {"datapipeline:field"},
        "a warning only: maxActiveInstances on its Schedule, whose object type has no such field",
    ),
    "kinesis/kinesis-to-s3.json": (
        {"datapipeline:period"},
        "a defect: its Schedule's period is '15 Period', not N minutes|hours|days|weeks|months",
    ),
    "oracle-backup/definition.json": (
        {"datapipeline:parameter"},
        "declares its parameters in oracle-backup/parameters.json (checked below with that file)",
    ),
}


def check_file(path: Path, kind: str, **options) -> list:
    loaded = load(path, str(path.relative_to(CORPUS)))
    if not loaded.ok:
        return list(loaded.problems)
    if options:
        from toolkit.pipelines import datapipeline, schema

        found = schema.problems(loaded.data, loaded.file, kinds.checker(kind)) + datapipeline.check(
            loaded.data, loaded.file, **options
        )
    else:
        found = kinds.check(loaded.data, loaded.file, kind)
    return [loaded.locate(p) for p in found]


def test_the_corpus_is_the_one_the_readme_describes():
    assert len([n for n in ASL if n.startswith("valid-")]) == 62
    assert len([n for n in ASL if n.startswith("invalid-")]) == 50
    assert len(list(DATAPIPELINE.rglob("*.json"))) == 44


@pytest.mark.parametrize("name", [n for n in ASL if n.startswith("valid-")])
def test_valid_state_machine_passes(name):
    assert check_file(CORPUS / "asl" / name, "asl") == []


# Where AWS disagrees with asl-validator, AWS wins (docs/pipelines.md, "Choices"): Step Functions needs the
# string to open with {% and close with %}, not spaces inside (AWS's own samples write {%$lowercase(…) %}).
ACCEPTED_BY_AWS = {"invalid-jsonata-surround-syntax-no-spaces.json"}


def test_what_aws_accepts_passes_even_where_asl_validator_refuses_it():
    for name in ACCEPTED_BY_AWS:
        assert check_file(CORPUS / "asl" / name, "asl") == [], name


@pytest.mark.parametrize("name", [n for n in ASL if n.startswith("invalid-") and n not in ACCEPTED_BY_AWS])
def test_invalid_state_machine_fails(name):
    problems = check_file(CORPUS / "asl" / name, "asl")
    assert problems, f"{name} should fail"
    assert all(p.line >= 1 and p.column >= 1 for p in problems)


LONG_NAME = "/States/This is an exceptionally long state name that I know will fail when I try to deploy to AWS"


@pytest.mark.parametrize(
    ("name", "pointer", "keyword"),
    [
        ("invalid-state-name-too-long.json", LONG_NAME, "asl:state-name"),
        ("invalid-map-ob-link.json", "/States/Map/Iterator/States/ChoiceState/Choices/1/Next", "asl:target"),
        ("invalid-unreachable-state.json", "/States/Finished Choice", "asl:reachable"),
        ("invalid-jsonata-syntax-mismatched-parens.json", "/States/X/Output", "asl:jsonata"),
        ("invalid-math-add.json", "/States/validate input/Parameters/foo.$", "asl:path"),
        ("invalid-dupe-fields.asl.json", "/States/PassState/Parameters/dynamic/conflict.$",
         "asl:duplicate-field"),
        ("invalid-map-items.asl.json", "/States/ProcessAnimals/ItemsPath", "asl:mutually-exclusive"),
        ("invalid-exercise-ajv-additional-properties.asl.json", "/States/PassState/bugInputPath",
         "additionalProperties"),
    ],
)  # fmt: skip
def test_invalid_state_machine_fails_for_its_reason(name, pointer, keyword):
    problems = check_file(CORPUS / "asl" / name, "asl")
    assert (pointer, keyword) in {(p.pointer, p.keyword) for p in problems}


def test_jsonata_surround_with_a_line_break_is_rejected_by_choice():
    # An option we decided, not a JSONata rule: '{% \n10 %}' parses, but no line break may stand next to a
    # delimiter (as the corpus has it, and AWS does not say otherwise); '{% a  %}' with several spaces is valid.
    problems = check_file(CORPUS / "asl" / "invalid-json-surround-syntax-extra-spaces.json", "asl")
    assert [p.keyword for p in problems] == ["asl:jsonata"]
    assert "no line break" in problems[0].message


@pytest.mark.parametrize("sample", sorted(p.relative_to(DATAPIPELINE).as_posix() for p in DATAPIPELINE.rglob("*.json")))
def test_data_pipeline_sample_validates_or_fails_for_a_named_reason(sample):
    keywords = {p.keyword for p in check_file(DATAPIPELINE / sample, "datapipeline")}
    expected, reason = DATAPIPELINE_FAILURES.get(sample, (set(), "a valid definition"))
    assert keywords == expected, reason


def test_the_two_readme_defects_are_reported_precisely():
    ref = check_file(DATAPIPELINE / "json-to-dynamodb/definition.json", "datapipeline")
    assert [(p.pointer, p.message) for p in ref] == [
        ("/objects/1/schedule/ref", "ref 'DefaultSchedule' names no object in this definition")
    ]
    param = check_file(DATAPIPELINE / "LoadTsvFilesInS3ToRedshift/LoadTsvFilesInS3ToRedshift.json", "datapipeline")
    assert [(p.pointer, p.message) for p in param] == [
        (
            "/objects/3/*password",
            "#{myRedshiftPassword} uses a parameter that is not declared; it is declared as '*myRedshiftPassword'",
        )
    ]
    assert (param[0].line, param[0].column) == (41, 7)


def test_oracle_backup_validates_with_its_parameter_file():
    import json

    declared = json.loads((DATAPIPELINE / "oracle-backup/parameters.json").read_text())["parameters"]
    problems = check_file(
        DATAPIPELINE / "oracle-backup/definition.json",
        "datapipeline",
        extra_parameters=[p["id"] for p in declared],
    )
    assert problems == []


def test_warnings_of_the_object_reference_are_warnings():
    found = check_file(DATAPIPELINE / "DynamoDBExport/DynamoDBTableExport.json", "datapipeline")
    assert [(p.pointer, p.severity) for p in found] == [("/objects/0/maxActiveInstances", "warning")]
