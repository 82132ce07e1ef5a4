"""Protection that a local edit cannot lift: a protected environment's protection is recorded beside its
state (moto S3) when it is created, bootstrapped or applied; a toolkit.toml that no longer protects it,
edited in place or another file through -C, is refused by every command that would use its stacks; only
`toolkit env unprotect ENV --confirm ENV`, with toolkit.toml no longer protecting it, lifts it."""

from __future__ import annotations

import shutil

import pytest

from tests.running import Bucket, invoke

pytestmark = pytest.mark.slow

RECORDED = "is protected (recorded beside its state at s3://"
KEY = "toolkit/protection/prod.json"


def _recorded(bucket: Bucket) -> bool:
    return KEY in set(bucket.keys())


def _unprotect_file(project) -> None:
    config = project / "toolkit.toml"
    config.write_text(config.read_text().replace("protected = true\n", ""))


def test_a_protected_environment_survives_a_toolkit_toml_that_forgets_it(
    s3_project, moto_endpoint, tmp_path, record_figure
):
    bucket = Bucket(s3_project, moto_endpoint)
    created = invoke(s3_project, "env", "create", "prod")
    assert created.exit_code == 0, created.output
    assert "prod is protected: recorded beside its state" in created.output and _recorded(bucket)
    planned = invoke(s3_project, "plan", "prod", "--out", str(tmp_path / "bundle"))
    assert planned.exit_code in (0, 2), planned.output
    applied = invoke(s3_project, "apply", "prod", "--plan", str(tmp_path / "bundle"))
    assert applied.exit_code == 0, applied.output
    resources = bucket.state("prod")["resources"]
    assert resources

    other = tmp_path / "elsewhere"  # another checkout, or a file passed with -C / TOOLKIT_PROJECT
    shutil.copytree(s3_project, other)
    _unprotect_file(other)
    _unprotect_file(s3_project)  # an uncommitted edit in place
    attacks = 0
    for project in (s3_project, other):
        for args in (("env", "down", "prod"), ("env", "up", "prod"), ("db", "migrate", "prod"), ("plan", "prod")):
            refused = invoke(project, *args)
            assert refused.exit_code == 3, (args, refused.output)
            assert RECORDED in refused.output and "this toolkit.toml says it is not" in refused.output
            assert "toolkit env unprotect prod --confirm prod" in refused.output
            attacks += 1
    refused = invoke(s3_project, "env", "down", "prod", env={"TOOLKIT_PROJECT": str(other)})
    assert refused.exit_code == 3 and RECORDED in refused.output, refused.output
    assert bucket.state("prod")["resources"] == resources and _recorded(bucket)

    # lifting it is deliberate: the name again, and a toolkit.toml that no longer protects it
    unconfirmed = invoke(s3_project, "env", "unprotect", "prod")
    assert unconfirmed.exit_code == 64 and "needs --confirm prod" in unconfirmed.output, unconfirmed.output
    assert invoke(s3_project, "env", "unprotect", "prod", "--confirm", "dev").exit_code == 64
    assert _recorded(bucket)
    record_figure("protection", f"{attacks + 1} commands on prod with its protection edited away: 0 ran")


def test_unprotect_is_refused_while_toolkit_toml_protects_and_then_lifts_it(s3_project, moto_endpoint):
    bucket = Bucket(s3_project, moto_endpoint)
    assert invoke(s3_project, "env", "create", "prod").exit_code == 0
    still = invoke(s3_project, "env", "unprotect", "prod", "--confirm", "prod")
    assert still.exit_code == 3 and "toolkit.toml still says 'prod' is protected" in still.output, still.output
    assert _recorded(bucket)
    _unprotect_file(s3_project)
    lifted = invoke(s3_project, "env", "unprotect", "prod", "--confirm", "prod")
    assert lifted.exit_code == 0 and f"removed s3://{bucket.name}/{KEY}" in lifted.stdout, lifted.output
    assert not _recorded(bucket)
    down = invoke(s3_project, "env", "down", "prod")
    assert down.exit_code == 0, down.output
