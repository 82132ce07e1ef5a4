"""promote-check (what TO would receive versus what FROM runs) and drift (outside changes), for real."""

from __future__ import annotations

import json

import psycopg2
import pytest
from typer.testing import CliRunner

from tests.projects import free_port, write_local_project
from tests.running import invoke
from toolkit.cli import app
from toolkit.deploy.context import Context
from toolkit.project.loader import load_project

pytestmark = pytest.mark.slow


@pytest.fixture
def two_env_project(tmp_path):
    """The full local project with a second environment `qa` and a third `prod` on the same stacks."""
    import shutil
    import tempfile

    state_dir = tempfile.mkdtemp(prefix="toolkit-test-state-")
    root = write_local_project(tmp_path / "p", port=free_port(), state_dir=state_dir, with_pipelines=True)
    base = json.loads((root / "tfvars" / "local.tfvars.json").read_text())
    config = (root / "toolkit.toml").read_text()
    body = config[config.index("[environments.local]") :].split("\n", 1)[1]
    for env in ("qa", "prod"):
        values = dict(base, db_port=free_port(), db_password_file=f".toolkit/{env}/postgres/password")
        (root / "tfvars" / f"{env}.tfvars.json").write_text(json.dumps(values))
        config += f"\n[environments.{env}]\n" + body.replace("local.tfvars.json", f"{env}.tfvars.json")
    (root / "toolkit.toml").write_text(config)
    yield root
    for env in ("qa", "local"):
        CliRunner().invoke(app, ["-C", str(root), "-q", "env", "down", env])
    shutil.rmtree(state_dir, ignore_errors=True)


def test_promote_check_passes_when_prod_gets_what_qa_runs_and_lists_every_difference(two_env_project):
    project = two_env_project
    missing = invoke(project, "promote-check", "qa", "prod")
    assert missing.exit_code == 3 and "'qa' has no deployment record" in missing.output

    fixtures = project / "sql" / "V5_1__qa_fixtures.sql"
    fixtures.write_text(
        "-- toolkit:environments=qa,local\nINSERT INTO customers (email, full_name, country_code) "
        "VALUES ('test@example.com', 'Test', 'NL');\n"
    )
    assert invoke(project, "env", "up", "qa").exit_code == 0
    ok = invoke(project, "promote-check", "qa", "prod")
    assert ok.exit_code == 0, ok.output  # the qa-only fixtures are not a difference
    assert "promote qa -> prod: ok" in ok.stdout
    # a fresh checkout differs only in files that are not code: the provider lock file (written by init),
    # and toolkit's emulator override (exists while Terraform runs)
    infra = project / "terraform" / "local" / "infra"
    (infra / ".terraform.lock.hcl").write_text('# maintained by "terraform init"\n')
    (infra / "zz_toolkit_emulator_override.tf").write_text('provider "aws" {}\n')
    fresh = invoke(project, "promote-check", "qa", "prod")
    assert fresh.exit_code == 0, fresh.output
    (infra / "zz_toolkit_emulator_override.tf").unlink()

    (project / "sql" / "V6__add_note.sql").write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    assert invoke(project, "env", "up", "qa").exit_code == 0
    (project / "sql" / "V6__add_note.sql").unlink()  # the checkout going to prod does not have it
    (project / "sql" / "V7__later.sql").write_text("ALTER TABLE orders ADD COLUMN later TEXT;\n")
    path = project / "pipelines" / "stepfunctions" / "orders_etl.asl.json"
    path.write_text(path.read_text().replace('"Comment": "', '"Comment": "Changed: ', 1))
    result = invoke(project, "promote-check", "qa", "prod", "--json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)["differences"]
    assert "migration 6 runs in qa but is not in this checkout" in found
    assert "migration 7 would reach prod but qa has not run it" in found
    assert "pipeline stepfunctions/orders_etl has different code compared with qa" in found
    assert len(found) == 3, found

    script = project / "pipelines" / "glue" / "scripts" / "orders_load.py"  # read from outside the stack
    script.write_text(script.read_text() + "\n# changed after qa\n")
    found = json.loads(invoke(project, "promote-check", "qa", "prod", "--json").stdout)["differences"]
    changed = "stack pipelines: pipelines/glue/scripts (read from outside terraform/local/pipelines) changed since qa"
    assert f"{changed} was deployed" in found, found
    # the script is the Glue job's code: its fingerprint says so too
    assert "pipeline glue/orders_load has different code compared with qa" in found and len(found) == 5, found


def test_drift_finds_a_manual_alter_table_and_a_state_change_outside_toolkit(two_env_project):
    import shutil

    project = two_env_project
    assert invoke(project, "env", "up", "qa").exit_code == 0
    # a fresh checkout (the nightly job): nothing rendered yet, so drift must render before planning
    shutil.rmtree(load_project(project).state_dir / "qa" / "rendered")
    clean = invoke(project, "drift", "qa")
    assert clean.exit_code == 0, clean.output
    assert "environment qa: no drift" in clean.stdout

    values = json.loads((project / "tfvars" / "qa.tfvars.json").read_text())
    password = (project / ".toolkit" / "qa" / "postgres" / "password").read_text().strip()
    conn = psycopg2.connect(
        host="127.0.0.1",
        port=values["db_port"],
        dbname=values["db_name"],
        user=values["db_username"],
        password=password,
    )
    with conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE customers ADD COLUMN added_by_hand TEXT")
    conn.close()

    ctx = Context(project=load_project(project))
    env = ctx.project.environment("qa")
    stack = ctx.stack(env, "infra")
    stack.init()
    stack.select_workspace(create=False)
    backup = f"-backup={project / 'state.backup'}"
    stack._run([f"-chdir={stack.target.directory}", "state", "rm", backup, "terraform_data.event_stream"], what="rm")

    drifted = invoke(project, "drift", "qa")
    assert drifted.exit_code == 1, drifted.output
    assert "environment qa: DRIFT" in drifted.stdout
    assert "stack infra: terraform_data.event_stream: create (state differs from the code)" in drifted.stdout
    assert "database:" in drifted.stdout and "added_by_hand" in drifted.stdout
