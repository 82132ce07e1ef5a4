"""What Terraform's children see of the caller's environment: an allowlist (terraform/engine.py) plus
what [terraform].pass_env names. Caller secrets never reach Terraform, a provider or a local-exec
provisioner; a real `env up` whose provisioner dumps its environment proves it."""

from __future__ import annotations

import json

import pytest

from tests.projects import new_state_dir, remove_state_dir, write_one_stack_project
from tests.running import invoke

pytestmark = pytest.mark.slow

SECRETS = {
    "PGPASSWORD": "pg-secret-1",
    "GITHUB_TOKEN": "ghp_secret2",
    "VAULT_TOKEN": "hvs.secret3",
    "DATABASE_URL": "postgresql://u:secret4@h/db",
    "MY_APP_KEY": "secret5",
    "TF_VAR_greeting": "secret6",
}

STACK = """
variable "environment" { type = string }
resource "terraform_data" "dump" {
  provisioner "local-exec" {
    command = "python3 -c 'import json, os; print(json.dumps(dict(os.environ)))' > ${path.module}/../env.json"
  }
}
"""


@pytest.fixture
def project(tmp_path):
    state_dir = new_state_dir()
    root = write_one_stack_project(
        tmp_path / "project",
        name="envdump",
        stack=STACK,
        state_dir=state_dir,
        terraform='pass_env = ["EXTRA_PROVIDER_TOKEN", "GOOGLE_*"]\n',
    )
    try:
        yield root
    finally:
        remove_state_dir(state_dir)


def test_caller_secrets_never_reach_a_provisioner(project, record_figure):
    passed = {"EXTRA_PROVIDER_TOKEN": "named-1", "GOOGLE_CREDENTIALS": "named-2", "AWS_PROFILE": "ci", "LC_ALL": "C"}
    up = invoke(project, "env", "up", "local", env={**SECRETS, **passed})
    # the stack declares no database output, so the run stops after the apply: the provisioner has run
    assert "Apply complete! Resources: 1 added" in up.output, up.output
    seen = json.loads((project / "env.json").read_text())
    for name, value in SECRETS.items():
        assert name not in seen and value not in json.dumps(seen), name
    for name, value in passed.items():
        assert seen.get(name) == value, name
    assert seen["TF_IN_AUTOMATION"] == "1" and "PATH" in seen
    record_figure("child environment", f"{len(SECRETS)} caller secrets kept from a local-exec child, 4 named passed")


@pytest.mark.parametrize("name", ["TF_VAR_x", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "BAD-NAME", ""])
def test_pass_env_cannot_name_what_changes_the_run(project, name):
    config = project / "toolkit.toml"
    config.write_text(config.read_text().replace('"EXTRA_PROVIDER_TOKEN"', json.dumps(name)))
    checked = invoke(project, "stacks", "check")
    assert checked.exit_code == 3, checked.output
    assert "terraform.pass_env" in checked.output and "TF_VAR_*, TF_CLI_ARGS*" in checked.output
