"""The pure checks of a plan bundle: every reason `apply --plan` refuses, one at a time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from toolkit.bundle.manifest import FORMAT, Manifest, StackInputs, StackRecord, parse_manifest
from toolkit.bundle.verify import CurrentStack, PlannedChanges, destructive_not_allowed, verify
from toolkit.errors import ConfigError

INPUTS = StackInputs(config="c1", lock_file="l1", var_files={"tfvars/dev.tfvars.json": "v1"})
RECORD = StackRecord(
    stack="infra",
    workspace="dev",
    plan_file="infra.tfplan",
    plan_sha256="p1",
    has_changes=True,
    lineage="lin-1",
    serial=7,
    inputs=INPUTS,
    deletes=(),
    replaces=(),
)
MANIFEST = Manifest(FORMAT, "dev", "2025-01-01T00:00:00+00:00", "abc", "terraform", "1.11.4", (RECORD,))
NOW = CurrentStack("dev", "lin-1", 7, INPUTS, "p1", PlannedChanges(True, (), ()))


def problems(manifest=MANIFEST, *, environment="dev", engine="terraform", version="1.11.4", stacks=("infra",), now=NOW):
    current = {"infra": now} if now is not None else {}
    return verify(
        manifest, environment=environment, engine=engine, engine_version=version, stacks=stacks, current=current
    )


def test_an_unchanged_world_passes():
    assert problems() == []


def test_another_environment_is_refused_alone():
    assert problems(environment="prod") == ["the plan was made for environment 'dev', not 'prod'"]


def test_another_selected_workspace():
    assert problems(now=replace(NOW, workspace="default")) == [
        "stack 'infra': the plan is for workspace 'dev', selected is 'default'"
    ]


def test_stale_serial():
    assert problems(now=replace(NOW, serial=8)) == [
        "stack 'infra': the state moved on since the plan (serial 7 → 8); plan again"
    ]


def test_new_lineage():
    assert problems(now=replace(NOW, lineage="lin-2", serial=1)) == [
        "stack 'infra': the state was replaced (lineage lin-1 → lin-2)"
    ]


def test_a_state_created_since_a_plan_made_without_one_is_stale():
    manifest = replace(MANIFEST, stacks=(replace(RECORD, lineage=None, serial=0),))
    assert problems(manifest) == ["stack 'infra': the state moved on since the plan (serial 0 → 7); plan again"]


@pytest.mark.parametrize(("engine", "version"), [("terraform", "1.11.5"), ("tofu", "1.11.4"), ("embedded", "1.15.0")])
def test_engine_kind_or_version_mismatch(engine, version):
    assert problems(engine=engine, version=version) == [
        f"the plan was made with terraform 1.11.4, this engine is {engine} {version}"
    ]


def test_provider_lock_file_changed():
    assert problems(now=replace(NOW, inputs=replace(INPUTS, lock_file="l2"))) == [
        "stack 'infra': the provider lock file (.terraform.lock.hcl) changed since the plan"
    ]


def test_changed_files():
    changed = replace(INPUTS, config="c2", var_files={"tfvars/dev.tfvars.json": "v2", "tfvars/new.tfvars.json": "n"})
    assert problems(now=replace(NOW, inputs=changed)) == [
        "stack 'infra': the Terraform configuration changed since the plan",
        "stack 'infra': var file tfvars/dev.tfvars.json changed since the plan",
        "stack 'infra': var file tfvars/new.tfvars.json changed since the plan",
    ]


def test_override_files_and_files_read_from_outside_the_stack_changed():
    recorded = replace(INPUTS, external={"pipelines/glue/scripts": "g1", "terraform/modules/naming": "m1"})
    manifest = replace(MANIFEST, stacks=(replace(RECORD, inputs=recorded),))
    now = replace(INPUTS, overrides="o1", external={"pipelines/glue/scripts": "g2"})
    assert problems(manifest, now=replace(NOW, inputs=now)) == [
        "stack 'infra': its override files (*_override.tf) changed since the plan",
        "stack 'infra': pipelines/glue/scripts (read from outside the stack's folder) changed since the plan",
        "stack 'infra': terraform/modules/naming (read from outside the stack's folder) changed since the plan",
    ]


def test_modified_plan_file_and_a_manifest_that_lies_about_its_plan():
    assert problems(now=replace(NOW, plan_sha256="p2", planned=None)) == [
        "stack 'infra': the saved plan file infra.tfplan is missing or was modified"
    ]
    truth = PlannedChanges(True, ("terraform_data.a",), ("terraform_data.b",))
    assert problems(now=replace(NOW, planned=truth)) == [
        "stack 'infra': manifest.json does not match the saved plan infra.tfplan (deletes, replaces)"
    ]


def test_stack_not_in_the_environment_and_environment_stack_not_in_the_plan():
    assert problems(stacks=("app",), now=None) == [
        "stack 'app' of environment 'dev' is not in the plan",
        "stack 'infra' of the plan is not part of environment 'dev'",
    ]


def test_protected_deletes_and_replaces_unless_allowed():
    planned = {"infra": PlannedChanges(True, ("terraform_data.gone",), ("terraform_data.new",))}
    assert destructive_not_allowed(planned, set()) == [
        "infra: delete terraform_data.gone",
        "infra: replace terraform_data.new",
    ]
    assert destructive_not_allowed(planned, {"terraform_data.gone"}) == ["infra: replace terraform_data.new"]
    assert destructive_not_allowed(planned, {"terraform_data.gone", "terraform_data.new"}) == []


def manifest_json(**changes):
    from dataclasses import asdict

    return {**asdict(MANIFEST), **changes}


def test_manifest_round_trips_through_json():
    assert parse_manifest(manifest_json(), "m.json") == MANIFEST


def test_a_format_3_bundle_is_still_applied():
    """Format 4 changed only the bundles of several databases: a one-database bundle of format 3 is the same."""
    assert parse_manifest(manifest_json(format=3), "m.json").format == 3


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "m.json: not a plan manifest: a JSON object is expected, not list"),
        ("x", "m.json: not a plan manifest: a JSON object is expected, not str"),
        (
            manifest_json(format=2),
            f"m.json: the plan bundle is format 2, this toolkit applies formats 3 to {FORMAT} only (older "
            "bundles identify migrations by Flyway's CRC32, which misses edits)",
        ),
        (
            manifest_json(format=None),
            f"m.json: the plan bundle is format None, this toolkit applies formats 3 to {FORMAT} only",
        ),
        (
            manifest_json(format=FORMAT + 1),
            f"m.json: the plan bundle is format {FORMAT + 1}, this toolkit applies formats 3 to {FORMAT} only",
        ),
        (manifest_json(stacks=[{"stack": "infra"}]), "m.json: not a readable plan manifest: KeyError: 'inputs'"),
        (manifest_json(stacks=3), "m.json: not a readable plan manifest: TypeError"),
        (manifest_json(extra=1), "m.json: not a readable plan manifest: TypeError"),
    ],
)
def test_bad_manifests_are_config_errors(raw, message):
    with pytest.raises(ConfigError) as caught:
        parse_manifest(raw, "m.json")
    assert caught.value.message.startswith(message)


def test_a_deferred_stack_is_not_missing_from_the_plan():
    assert problems(replace(MANIFEST, deferred={"pipelines": "why"}), stacks=("infra", "pipelines")) == []


def test_outputs_a_later_stack_cannot_use_yet():
    from toolkit.bundle.phases import unsettled_outputs

    plan = {
        "output_changes": {
            "same": {"actions": ["no-op"], "after": "x"},
            "renamed": {"actions": ["update"], "after": "y"},
            "unknown": {"actions": ["create"], "after_unknown": True},
        }
    }
    assert unsettled_outputs("infra", plan, has_state=True) == {
        "renamed": "stack 'infra''s plan changes its output 'renamed'",
        "unknown": "stack 'infra''s plan changes its output 'unknown'",
    }
    fresh = unsettled_outputs("infra", plan, has_state=False)
    assert set(fresh) == {"same", "renamed", "unknown"} and "has no state yet" in fresh["same"]


def test_deferral_names_what_is_read_and_why():
    from toolkit.bundle.phases import deferral

    unsettled = {"data_bucket": "stack 'infra''s plan changes its output 'data_bucket'"}
    assert deferral("pipelines", {"event_stream"}, unsettled, {}) is None
    assert deferral("pipelines", {"data_bucket", "event_stream"}, unsettled, {}) == (
        "it reads data_bucket: stack 'infra''s plan changes its output 'data_bucket'"
    )
    assert deferral("reports", set(), {}, {"pipelines": "why"}) == (
        "it comes after stack 'pipelines', which is planned after this bundle is applied"
    )


def test_migration_files_added_removed_or_changed_since_the_plan():
    from toolkit.bundle.verify import migration_problems

    planned = {"V1__a.sql": "a" * 64, "V2__b.sql": "b" * 64, "R__v.sql": "9" * 64}
    allowed = {"V2__b.sql": "b" * 64}
    assert migration_problems(planned, allowed, dict(planned)) == []
    now = {"V1__a.sql": "a" * 64, "R__v.sql": "0" * 64, "V3__c.sql": "c" * 64}
    assert migration_problems(planned, allowed, now) == [
        "migration R__v.sql changed since the plan (SHA-256 999999999999 → 000000000000)",
        "migration V2__b.sql was removed after the plan (it was reviewed to run)",
        "migration V3__c.sql was added after the plan",
    ]
    assert migration_problems(planned, allowed, {"V2__b.sql": "b" * 64, "R__v.sql": "9" * 64}) == [
        "migration V1__a.sql was removed after the plan"
    ]


def test_another_commit_is_a_warning_only():
    from toolkit.bundle.verify import commit_warning

    assert commit_warning("abc", "abc") is None and commit_warning(None, "abc") is None
    assert commit_warning("abc", "def-dirty") == (
        "the plan was made at commit abc, this checkout is at def-dirty (every input it applies is unchanged)"
    )


def test_summary_is_masked_before_it_is_cut():
    from toolkit.bundle.summary import summary_text
    from toolkit.support import masking

    masking.register("s3cr3t-value-42")
    text = "x" * 90 + "\nline with s3cr3t-value-42 in it\n" + "y" * 200
    capped = summary_text(text, limit=220)
    assert "s3cr3t" not in capped and "value-42" not in capped and len(capped) <= 220
    assert capped.startswith("x" * 90 + "\nline with *** in it") and "summary cut at" in capped


def test_a_cut_never_leaves_a_code_fence_or_details_open():
    from toolkit.bundle.summary import cap_markdown

    diff = "\n".join(f"+ line {i}" for i in range(100))
    text = f"## plan\n\n<details><summary>p</summary>\n\n```diff\n{diff}\n```\n\n</details>\n"
    assert cap_markdown(text, len(text)) == text
    capped = cap_markdown(text, 400)
    assert len(capped) <= 400
    body, marker = capped.rsplit("\n_(summary cut at ", 1)
    assert body.count("```") == 2 and body.rstrip().endswith("```\n</details>")
    assert marker.endswith(f"of {len(text)} characters; the bundle's JSON files hold everything)_\n")


def test_lint_verdicts():
    from toolkit.bundle.summary import lint_verdict
    from toolkit.migrations.lint import LintFinding

    drop = LintFinding("V7__d.sql", 1, "drop-table", "DROP TABLE x: loses data", allowed=False)
    assert lint_verdict([]) == {"verdict": "clean", "findings": []}
    assert lint_verdict([drop])["verdict"] == "refused"
    assert lint_verdict([replace(drop, allowed=True)]) == {
        "verdict": "allowed by annotation",
        "findings": ["V7__d.sql:1: drop-table: DROP TABLE x: loses data"],
    }
    assert lint_verdict([replace(drop, rule="syntax")])["verdict"] == "not parsed"


def test_a_plan_older_than_max_age_or_from_the_future_is_too_old():
    from datetime import UTC, datetime, timedelta

    from toolkit.bundle.manifest import too_old

    made = datetime.fromisoformat(MANIFEST.created_at)
    assert too_old(MANIFEST, None, made + timedelta(days=400)) is None
    assert too_old(MANIFEST, 3600, made + timedelta(minutes=59)) is None
    assert too_old(MANIFEST, 3600, made + timedelta(minutes=61)) == (
        "was made at 2025-01-01T00:00:00+00:00, more than --max-age (60 minutes) ago"
    )
    assert too_old(MANIFEST, 3600, made - timedelta(hours=1)) == (
        "was made at 2025-01-01T00:00:00+00:00, in the future: its age cannot be checked"
    )
    assert "no readable creation time" in too_old(replace(MANIFEST, created_at="yesterday"), 60, datetime.now(UTC))
