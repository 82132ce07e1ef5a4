"""`--emulator` end to end: an ephemeral environment pr-<n> on toolkit's own moto, with copies of the real
AWS stacks (the provider constraint relaxed to the offline mirror's 5.100, never in the shipped stacks),
the real AWS provider from the mirror, and a stand-in PostgreSQL for each RDS instance (the orders
database and the warehouse). Up, a second up with nothing to do, status, values (no password), a new
migration through `plan --out` and `apply --plan`, `drift` before and after a change made by hand on the
stand-in, `promote-check` to a second emulated environment (equal, then a migration apart), down; then the
emulator's resources are listed to prove nothing is left. Then Ctrl-C during the infra apply: exit 130,
no lock left, the next run completes. Takes several minutes (each env up waits ~80 s for the RDS
instances, as the provider polls them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.projects import REPO
from toolkit.adapters.postgres.server import EmbeddedServer
from toolkit.deploy.paths import StatePaths

MIRROR = Path(os.environ.get("TOOLKIT_TEST_AWS_PROVIDER_MIRROR", "/opt/tf-plugins"))
ENV = "pr-913"
REGION = "eu-west-1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("terraform") is None or not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
        reason=f"needs terraform and an AWS provider mirror at {MIRROR} (TOOLKIT_TEST_AWS_PROVIDER_MIRROR)",
    ),
]


def copy_project(root: Path, *, relax: bool = True) -> Path:
    root.mkdir(parents=True)
    for name in ("toolkit.toml", "sql", "pipelines", "tfvars", "terraform", ".gitignore"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns(".terraform*", "zz_*"))
        else:
            shutil.copy(source, root / name)
    for versions in (root / "terraform" / "aws").glob("*/versions.tf") if relax else ():
        text, count = re.subn(r'version = "~> 6\.0"', 'version = ">= 5.100"', versions.read_text())
        assert count == 1, "the provider constraint of the stacks changed: update this test"
        versions.write_text(text)
    (root / "toolkit.toml").write_text(
        (root / "toolkit.toml").read_text().replace('engine = "auto"', 'engine = "terraform"')
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "copy"], cwd=root, check=True
    )
    return root


def command(project: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ.update({"CI": "true", "TOOLKIT_PROVIDER_MIRROR": str(MIRROR)})
    return [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", *args], environ


def toolkit(project: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    argv, environ = command(project, *args)
    return subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=timeout)


def emulated(project: Path):
    """boto3 clients for the project's running emulator."""
    import boto3

    port = json.loads((project / ".toolkit" / "emulator" / "server.json").read_text())["port"]
    options = {
        "region_name": REGION,
        "endpoint_url": f"http://127.0.0.1:{port}",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    return lambda service: boto3.client(service, **options)


def leftovers(client) -> dict[str, list]:
    """Every kind of resource the AWS stacks create, as the emulator lists them."""
    s3 = client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    state_objects = [
        o["Key"] for b in buckets if "toolkit-state" in b for o in s3.list_objects_v2(Bucket=b).get("Contents", [])
    ]
    ec2 = client("ec2")
    return {
        "data buckets": [b for b in buckets if "toolkit-state" not in b],
        "state objects": state_objects,
        "rds": [d["DBInstanceIdentifier"] for d in client("rds").describe_db_instances()["DBInstances"]],
        "kinesis": client("kinesis").list_streams()["StreamNames"],
        "firehose": client("firehose").list_delivery_streams()["DeliveryStreamNames"],
        "glue connections": [c["Name"] for c in client("glue").get_connections()["ConnectionList"]],
        "glue jobs": client("glue").list_jobs()["JobNames"],
        "state machines": [m["name"] for m in client("stepfunctions").list_state_machines()["stateMachines"]],
        "security groups": [
            g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if "orders" in g["GroupName"]
        ],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")],
        "iam roles": [
            r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith("orders-")
        ],
    }


def values_without_secrets(project: Path, client) -> None:
    """`values`: the stacks' outputs with their sources, never a master password from the emulated secret."""
    shown = toolkit(project, "values", ENV, "--emulator", "--json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    document = json.loads(shown.stdout)
    assert document["missing_stacks"] == [], document
    assert any(
        "data_bucket" in v["name"] and f"orders-{ENV}-data" in json.dumps(v["value"]) for v in document["values"]
    )
    # the network Terraform got (the emulated one, a last var file), not the real account's ids in tfvars/
    network = json.loads((project / ".toolkit" / "emulator" / ENV / "network.tfvars.json").read_text())
    vpc = next(v for v in document["values"] if v["name"] == "vpc_id")
    assert vpc["value"] == network["vpc_id"] and vpc["source"].endswith("network.tfvars.json"), vpc
    secrets = client("secretsmanager")
    passwords = [
        json.loads(secrets.get_secret_value(SecretId=s["ARN"])["SecretString"])["password"]
        for s in secrets.list_secrets()["SecretList"]
    ]
    assert len(passwords) == 2  # the orders database's and the warehouse's, generated by the emulated RDS
    for password in passwords:
        assert password not in shown.stdout + shown.stderr


def reviewed_change_of_a_migration(project: Path, bundle: Path) -> None:
    """A new migration, committed: `plan --out` writes a bundle, `apply --plan` applies exactly that."""
    (project / "sql" / "orders" / "V6__add_order_notes.sql").write_text("ALTER TABLE orders ADD COLUMN notes TEXT;\n")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "V6"], cwd=project, check=True
    )
    planned = toolkit(project, "plan", ENV, "--emulator", "--out", str(bundle))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "V6" in planned.stdout, planned.stdout
    applied = toolkit(project, "apply", ENV, "--plan", str(bundle), "--emulator")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    status = toolkit(project, "env", "status", ENV, "--emulator", "--json")
    document = json.loads(status.stdout)
    assert document["migrations_applied"] == 8 and document["migrations_pending"] == [], document


STAND_IN = re.compile(r"database\s+(\w+): postgresql://\w+:\*\*\*@127\.0\.0\.1:(\d+)/\w+")


def connect_by_hand(project: Path, client, database: str, port: int):
    """A session on a stand-in as someone with the master password would open one: the user and database
    from the stacks' `databases` output (`values`), the password from the emulated Secrets Manager secret
    it names, the address the one `env up` reported (the output's RDS name resolves nowhere)."""
    import psycopg2

    shown = json.loads(toolkit(project, "values", ENV, "--emulator", "--json").stdout)
    output = next(v["value"] for v in shown["values"] if v["name"] == "databases")[database]
    secret = client("secretsmanager").get_secret_value(SecretId=output["password_secret_arn"])
    password = json.loads(secret["SecretString"])["password"]
    return psycopg2.connect(
        host="127.0.0.1", port=port, dbname=output["name"], user=output["username"], password=password
    )


def drift_after_a_change_by_hand(project: Path, client, ports: dict[str, int]) -> None:
    """`drift`: clean after env up; then a column added and an index dropped by hand on the orders
    stand-in are reported by name, exit 1, and the warehouse (untouched) has no drift."""
    clean = toolkit(project, "drift", ENV, "--emulator")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"environment {ENV}: no drift" in clean.stdout, clean.stdout

    conn = connect_by_hand(project, client, "orders", ports["orders"])
    try:
        with conn, conn.cursor() as cur:
            cur.execute("ALTER TABLE customers ADD COLUMN added_by_hand TEXT")
            cur.execute("DROP INDEX orders_placed_at_idx")
    finally:
        conn.close()

    drifted = toolkit(project, "drift", ENV, "--emulator", "--json")
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    report = json.loads(drifted.stdout)
    assert all(not s["drifted"] and not s["pending"] for s in report["stacks"]), report["stacks"]
    found = {db["name"]: [(f["kind"], f["name"], f["change"]) for f in db["differences"]] for db in report["databases"]}
    assert found["analytics"] == [], found
    named = " ".join(f"{kind} {name} {change}" for kind, name, change in found["orders"])
    assert "added_by_hand" in named and "unexpected" in named, found
    assert "orders_placed_at_idx" in named and "missing" in named, found
    assert len(found["orders"]) == 2, found


def promotion_to_a_second_environment(project: Path, second: str) -> None:
    """`promote-check ENV SECOND`: ENV's deployment record (in the emulated state bucket) against what this
    checkout would deploy to the second emulated environment. Equal: ok. One migration apart (committed
    after ENV was deployed): refused, naming it, exit 1."""
    same = toolkit(project, "promote-check", ENV, second, "--emulator")
    assert same.returncode == 0, same.stdout + same.stderr
    assert f"promote {ENV} -> {second}: ok" in same.stdout, same.stdout

    (project / "sql" / "orders" / "V7__add_order_channel.sql").write_text(
        "ALTER TABLE orders ADD COLUMN channel TEXT;\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "V7"], cwd=project, check=True
    )
    apart = toolkit(project, "promote-check", ENV, second, "--emulator", "--json")
    assert apart.returncode == 1, apart.stdout + apart.stderr
    differences = json.loads(apart.stdout)["differences"]
    assert differences == [f"database orders: migration 7 would reach {second} but {ENV} has not run it"], differences


def test_an_ephemeral_environment_lives_and_leaves_nothing_on_the_emulator(tmp_path):
    project = copy_project(tmp_path / "project")
    try:
        first = toolkit(project, "env", "up", ENV, "--emulator")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "started the AWS emulator (moto)" in first.stderr and "in memory" in first.stderr
        assert f"started the stand-in PostgreSQL for RDS instance orders-{ENV}-pg" in first.stderr
        assert "5 applied now, 0 before" in first.stdout and "127.0.0.1" in first.stdout
        client = emulated(project)
        # Two instances (the orders database and the warehouse): each its own stand-in.
        assert f"started the stand-in PostgreSQL for RDS instance orders-{ENV}-dw" in first.stderr
        assert sorted(leftovers(client)["rds"]) == [f"orders-{ENV}-dw", f"orders-{ENV}-pg"]
        machines = leftovers(client)["state machines"]
        assert machines == [f"orders-{ENV}-orders_etl"], machines

        again = toolkit(project, "env", "up", ENV, "--emulator")
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"environment {ENV}: nothing to do" in again.stdout, again.stdout
        assert "started the AWS emulator" not in again.stderr  # the same emulator, found again

        status = toolkit(project, "env", "status", ENV, "--emulator", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        document = json.loads(status.stdout)
        assert document["migrations_applied"] == 7 and document["migrations_pending"] == [], document
        assert {s["stack"]: s["workspace_exists"] for s in document["stacks"]} == {"infra": True, "pipelines": True}
        values_without_secrets(project, client)

        reviewed_change_of_a_migration(project, tmp_path / "bundle")
        ports = {name: int(port) for name, port in STAND_IN.findall(first.stdout)}
        assert sorted(ports) == ["analytics", "orders"], first.stdout
        drift_after_a_change_by_hand(project, client, ports)
        promotion_to_a_second_environment(project, "pr-915")

        down = toolkit(project, "env", "down", ENV, "--emulator")
        assert down.returncode == 0, down.stdout + down.stderr
        left = leftovers(client)
        assert {kind: found for kind, found in left.items() if found} == {}
        assert not (project / ".toolkit" / "emulator" / ENV).exists()
        assert not StatePaths(project / ".toolkit").outside().exists()  # as root, the stand-ins were there
    finally:
        stopped = toolkit(project, "emulator", "stop", timeout=60)
        outside = StatePaths(project / ".toolkit").outside()  # where the stand-ins are when run as root
        for data in [*(project / ".toolkit" / "emulator").glob("*/postgres/*/data"), *outside.glob("*/*/data")]:
            EmbeddedServer(data_dir=data, port=0).remove()  # after a failure
        shutil.rmtree(outside, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_sigint_during_the_infra_apply_leaves_no_lock_and_the_next_run_completes(tmp_path):
    project = copy_project(tmp_path / "project")
    env = "pr-914"
    try:
        argv, environ = command(project, "env", "up", env, "--emulator")
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ)
        seen = []
        for line in proc.stdout:  # Ctrl-C once the databases are being created: mid-apply, state locked
            seen.append(line)
            if "module.orders_database.aws_db_instance.this: Still creating" in line:
                break
        else:
            pytest.fail("the infra apply never reached the database:\n" + "".join(seen))
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=300)
        output = "".join(seen) + rest
        assert proc.returncode == 130, output
        assert "interrupted" in output and "release its state lock" in output, output
        s3 = emulated(project)("s3")
        bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "toolkit-state" in b["Name"])
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert not [k for k in keys if k.endswith(".tflock")], keys

        again = toolkit(project, "env", "up", env, "--emulator")  # no force-unlock needed
        assert again.returncode == 0, again.stdout + again.stderr
        assert "5 applied now, 0 before" in again.stdout, again.stdout
        down = toolkit(project, "env", "down", env, "--emulator")
        assert down.returncode == 0, down.stdout + down.stderr
        assert {kind: found for kind, found in leftovers(emulated(project)).items() if found} == {}
    finally:
        stopped = toolkit(project, "emulator", "stop", timeout=60)
        outside = StatePaths(project / ".toolkit").outside()
        for data in [*(project / ".toolkit" / "emulator").glob("*/postgres/*/data"), *outside.glob("*/*/data")]:
            EmbeddedServer(data_dir=data, port=0).remove()  # after a failure
        shutil.rmtree(outside, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_stacks_asking_for_a_version_the_mirror_lacks_are_told_what_to_do(tmp_path):
    project = copy_project(tmp_path / "project", relax=False)  # the shipped `~> 6.0`
    try:
        result = toolkit(project, "env", "up", ENV, "--emulator", timeout=300)
        assert result.returncode == 3, result.stdout + result.stderr
        message = " ".join(result.stderr.split())
        assert "found no provider version the stack accepts" in message
        assert f"the mirror {MIRROR} (TOOLKIT_PROVIDER_MIRROR) holds hashicorp/aws 5.100.0" in message
        assert "relax the constraint in a copy of the stacks" in message
    finally:
        toolkit(project, "emulator", "stop", timeout=60)
