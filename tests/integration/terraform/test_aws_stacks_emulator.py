"""The shipped AWS stacks planned for real: the AWS provider from a local mirror (no downloads here),
pointed at a moto server through toolkit's own emulator mode (Stack + provider override), the state
in S3 on moto. What `toolkit stacks check` cannot see: provider argument names, the account guard in
emulator mode, and the preconditions that hold the rendered reference pipelines to the stack's IAM.

The mirror holds provider 5.100 (the newest build available offline) while the stacks ask for `~> 6.0`,
so the copies here accept `>= 5.100`; `make validate-aws` checks 6.x where the registry is reachable.
moto does not implement Step Functions' ValidateStateMachineDefinition, which the provider calls while
planning a state machine, so the state machines are checked with `terraform console` instead of a plan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.projects import REPO
from toolkit.errors import TerraformFailed
from toolkit.project.loader import load_project
from toolkit.project.model import Backend
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.emulator_override import provider_override
from toolkit.terraform.engine import resolve_engine
from toolkit.terraform.stack import Stack

MIRROR = Path(os.environ.get("TOOLKIT_TEST_AWS_PROVIDER_MIRROR", "/opt/tf-plugins"))
REGION = "eu-west-1"
ENV = "pr-7"
ACCOUNT = "123456789012"  # moto's
BUCKET = f"orders-{ENV}-data-{ACCOUNT}"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("terraform") is None or not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
        reason=f"needs terraform and an AWS provider mirror at {MIRROR} (TOOLKIT_TEST_AWS_PROVIDER_MIRROR)",
    ),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, moto_endpoint) -> Path:
    """Copies of both AWS stacks, a CLI config that installs the provider from the mirror, a state
    bucket and a VPC with two private subnets on moto, and a var file naming them."""
    import boto3

    root = tmp_path_factory.mktemp("aws-stacks")
    for stack in ("infra", "pipelines"):
        copy = root / "terraform" / stack
        shutil.copytree(REPO / "terraform" / "aws" / stack, copy, ignore=shutil.ignore_patterns(".terraform*"))
        versions = copy / "versions.tf"
        text, count = re.subn(r'version = "~> 6\.0"', 'version = ">= 5.100"', versions.read_text())
        assert count == 1, "the provider constraint of the stacks changed: update this test"
        versions.write_text(text)
    (root / "terraformrc").write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
    )
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket="orders-state", CreateBucketConfiguration={"LocationConstraint": REGION})
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{n}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    (root / "network.tfvars.json").write_text(
        json.dumps({"vpc_id": vpc, "private_subnet_ids": [s["SubnetId"] for s in subnets]})
    )
    return root


def stack(workdir: Path, name: str, endpoint: str, *extra_var_files: Path) -> Stack:
    target = StackTarget(
        stack=name,
        directory=workdir / "terraform" / name,
        environment=ENV,
        data_dir=workdir / "tfdata" / name,
        backend=Backend("s3", {"bucket": "orders-state", "region": REGION}),
        backend_state_dir=workdir / "state",
        var_files=(
            REPO / "tfvars" / "common.tfvars.json",
            REPO / "tfvars" / "ephemeral.tfvars.json",
            workdir / "network.tfvars.json",
            *extra_var_files,
        ),
        lock_timeout="1m",
    )
    extra = {"TF_CLI_CONFIG_FILE": str(workdir / "terraformrc"), "AWS_ENDPOINT_URL": endpoint}
    result = Stack(resolve_engine("terraform"), target, endpoint=endpoint, extra_env=extra)
    result.init()
    result.select_workspace(create=True)
    return result


def planned(stack: Stack, tmp_path: Path) -> dict:
    assert stack.plan(tmp_path / "plan.tfplan")
    return stack.show_plan(tmp_path / "plan.tfplan")


def after(plan: dict, address: str) -> dict:
    return next(r["change"]["after"] for r in plan["resource_changes"] if r["address"] == address)


def statements(plan: dict, address: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(after(plan, address)["policy"])["Statement"]}


def test_the_infra_stack_plans_against_the_emulator(workdir, moto_endpoint, tmp_path):
    """The var files allow only 111111111111; the override allows the emulator's account instead."""
    plan = planned(stack(workdir, "infra", moto_endpoint), tmp_path)
    outputs = plan["planned_values"]["outputs"]
    assert outputs["glue_database"]["value"] == "orders_pr_7"
    assert outputs["glue_connection"]["value"] == f"orders-{ENV}-database"
    assert outputs["data_bucket"]["value"] == BUCKET
    connection = after(plan, "aws_glue_connection.database")
    assert connection["connection_type"] == "NETWORK"
    assert connection["physical_connection_requirements"][0]["availability_zone"] == f"{REGION}a"
    assert after(plan, "aws_vpc_security_group_ingress_rule.database_glue")["from_port"] == 5432
    warehouse = after(plan, "module.warehouse.aws_db_instance.this")
    assert warehouse["identifier"] == f"orders-{ENV}-dw" and warehouse["db_name"] == "analytics"
    assert warehouse["storage_encrypted"] and not warehouse["publicly_accessible"]
    assert warehouse["manage_master_user_password"] and not warehouse["deletion_protection"]  # pr-7: not protected
    assert not list(workdir.rglob("zz_toolkit_emulator_override.tf"))


def render(workdir: Path, out: Path) -> Path:
    """The reference pipelines rendered for the environment, with infra outputs as AWS would give them."""
    from toolkit.pipelines.rendering import render as render_pipelines
    from toolkit.project.values import Value, Values, tfvars_values

    project = load_project(REPO)
    outputs = {
        "data_bucket": BUCKET,
        "event_stream": f"orders-{ENV}-events",
        "database": {
            "engine": "postgres",
            "host": f"orders-{ENV}-pg.abc.{REGION}.rds.amazonaws.com",
            "port": 5432,
            "name": "orders",
            "username": "orders_admin",
            "password_secret_arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1-AbCdEf",
            "password_file": None,
        },
        "glue_database": "orders_pr_7",
        "glue_connection": f"orders-{ENV}-database",
    }
    warehouse = {
        "host": f"orders-{ENV}-dw.abc.{REGION}.rds.amazonaws.com",
        "name": "analytics",
        "username": "analytics_admin",
        "password_secret_arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-2-WhSeCr",
    }
    outputs["databases"] = {"orders": outputs["database"], "analytics": {**outputs["database"], **warehouse}}
    items = tfvars_values(project.environment(ENV), REPO)
    items.update({name: Value(name, value, f"output infra.{name}") for name, value in outputs.items()})
    render_pipelines(project, Values(ENV, items), out)
    inputs = workdir / f"inputs-{out.name}.tfvars.json"
    inputs.write_text(
        json.dumps(
            {**outputs, "rendered_pipelines_dir": str(out), "glue_scripts_dir": str(REPO / "pipelines/glue/scripts")}
        )
    )
    return inputs


def test_the_rendered_reference_pipelines_plan_under_the_stacks_roles(workdir, moto_endpoint, tmp_path):
    inputs = render(workdir, tmp_path / "rendered")
    shutil.rmtree(tmp_path / "rendered" / "stepfunctions")  # see the module docstring
    plan = planned(stack(workdir, "pipelines", moto_endpoint, inputs), tmp_path)
    bucket = f"arn:aws:s3:::{BUCKET}"

    load = after(plan, 'aws_glue_job.job["orders_load"]')
    assert load["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/orders-{ENV}-glue-database"
    assert load["connections"] == [f"orders-{ENV}-database"]
    # the load writes into the warehouse: its arguments and its secret are the analytics database's
    assert load["default_arguments"]["--db_secret_arn"].endswith(":secret:rds!db-2-WhSeCr")
    assert load["default_arguments"]["--db_name"] == "analytics"
    transform = after(plan, 'aws_glue_job.job["orders_transform"]')
    assert transform["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/orders-{ENV}-glue"
    assert "--db_secret_arn" not in transform["default_arguments"] and transform["tags"] == {"pipeline": "orders_etl"}

    database_role = statements(plan, "aws_iam_role_policy.glue_database[0]")
    assert database_role["ReadTheDatabaseSecret"]["Resource"].endswith(":secret:rds!db-2-WhSeCr")
    glue_arn = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    assert f"{glue_arn}:connection/orders-{ENV}-database" in database_role["UseTheDatabaseConnection"]["Resource"]
    glue_role = statements(plan, "aws_iam_role_policy.glue")
    assert f"{bucket}/raw/*" in glue_role["ReadInputs"]["Resource"]  # orders_transform and the crawler read raw/orders/
    assert "ReadTheDatabaseSecret" not in glue_role
    assert f"{glue_arn}:database/orders_pr_7" in glue_role["CrawlIntoTheCatalogDatabase"]["Resource"]

    firehose = statements(plan, "aws_iam_role_policy.firehose[0]")
    assert sorted(firehose["WriteTheirPrefixes"]["Resource"]) == [f"{bucket}/errors/events/*", f"{bucket}/raw/events/*"]

    workflow = after(plan, 'aws_glue_workflow.pipeline["orders_nightly"]')
    assert workflow["name"] == f"orders-{ENV}-orders-nightly" and workflow["max_concurrent_runs"] == 1
    crawler = after(plan, f'aws_glue_crawler.pipeline["orders-{ENV}-raw-orders"]')
    assert crawler["database_name"] == "orders_pr_7" and crawler["table_prefix"] == "raw_"
    assert crawler["s3_target"][0]["path"] == f"s3://{BUCKET}/raw/orders/"
    triggers = {r["address"]: r["change"]["after"] for r in plan["resource_changes"] if r["type"] == "aws_glue_trigger"}
    assert len(triggers) == 3
    assert {t["workflow_name"] for t in triggers.values()} == {f"orders-{ENV}-orders-nightly"}
    nightly = triggers[f'aws_glue_trigger.pipeline["orders-{ENV}-nightly"]']
    assert nightly["schedule"] == "cron(0 2 * * ? *)" and nightly["actions"][0]["crawler_name"].endswith("-raw-orders")


def test_a_definition_the_stack_would_not_deploy_as_written_fails_the_plan(workdir, moto_endpoint, tmp_path):
    rendered = tmp_path / "rendered"
    inputs = render(workdir, rendered)
    shutil.rmtree(rendered / "stepfunctions")
    job_file = rendered / "glue" / "orders_transform.json"
    job = json.loads(job_file.read_text())
    job_file.write_text(json.dumps({**job, "Role": f"arn:aws:iam::{ACCOUNT}:role/admin", "LogUri": "s3://x/"}))
    hose_file = rendered / "firehose" / "events_to_bucket.json"
    hose = json.loads(hose_file.read_text())
    hose["ExtendedS3DestinationConfiguration"]["ErrorOutputPrefix"] = "!{firehose:error-output-type}/"
    hose_file.write_text(json.dumps(hose))

    with pytest.raises(TerraformFailed) as failed:
        stack(workdir, "pipelines", moto_endpoint, inputs).plan(tmp_path / "plan.tfplan")
    message = " ".join(str(failed.value).split())
    assert "Role arn:aws:iam::123456789012:role/admin is not this job's role" in message
    assert "glue/orders_transform.json sets LogUri, which the stack does not deploy" in message
    assert "Prefix and ErrorOutputPrefix must each start with a literal folder outside glue/" in message


def test_a_crawler_or_trigger_outside_the_environment_fails_the_plan(workdir, moto_endpoint, tmp_path):
    rendered = tmp_path / "rendered"
    inputs = render(workdir, rendered)
    shutil.rmtree(rendered / "stepfunctions")
    flow_file = rendered / "glue-workflows" / "orders_nightly.json"
    flow = json.loads(flow_file.read_text())
    flow["Crawlers"][0]["DatabaseName"] = "orders_dev"  # another environment's catalog
    flow["Crawlers"][0]["Targets"]["S3Targets"].append({"Path": "s3://someone-elses-bucket/", "ConnectionName": "x"})
    flow_file.write_text(json.dumps(flow))

    with pytest.raises(TerraformFailed) as failed:
        stack(workdir, "pipelines", moto_endpoint, inputs).plan(tmp_path / "plan.tfplan")
    message = " ".join(str(failed.value).split())
    assert "must write to the environment's catalog database orders_pr_7" in message
    assert f"must crawl S3 paths under s3://{BUCKET}/{{raw/,events/,curated/}}" in message
    assert "sets S3Targets[].ConnectionName, which the stack does not deploy" in message


def test_the_state_machine_role_lists_exactly_what_the_machines_list(workdir, moto_endpoint, tmp_path):
    inputs = render(workdir, tmp_path / "rendered")
    other = {
        "StartAt": "List",
        "States": {
            "List": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "Parameters": {"Bucket": "someone-elses-bucket", "Prefix": "x/"},
                "Next": "Call",
            },
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True},
        },
    }
    (tmp_path / "rendered" / "stepfunctions" / "other.json").write_text(json.dumps(other))
    pipelines = stack(workdir, "pipelines", moto_endpoint, inputs)
    argv = pipelines.engine.command(
        f"-chdir={pipelines.target.directory}",
        "console",
        *(f"-var-file={path}" for path in pipelines.target.var_files),
        f"-var=environment={ENV}",
    )
    expression = (
        "jsonencode([local.states_list_prefixes, local.states_uncovered_tasks, local.states_list_tasks_off_limits])"
    )
    with provider_override(pipelines.target.directory, moto_endpoint):
        result = subprocess.run(argv, input=expression, env=pipelines.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    prefixes, uncovered, off_limits = json.loads(json.loads(result.stdout.strip().splitlines()[-1]))
    # orders_etl lists raw/orders/ and runs Glue jobs: all allowed. `other` lists another bucket (its
    # plan fails) and invokes Lambda, which the role does not allow (a check warns at plan).
    assert prefixes == ["raw/orders/"]
    assert uncovered == ["other: Call (arn:aws:states:::lambda:invoke)"]
    assert off_limits == ["other: List"]
