"""A stand-in PostgreSQL lives as long as the emulated RDS instance it stands in for: a new instance of
the same name (a new master secret) gets an empty database, and `emulator stop` takes every stand-in
with the emulated AWS. Real embedded servers; no moto needed for what is decided here."""

from __future__ import annotations

import psycopg2
import pytest

from tests.projects import new_state_dir, remove_state_dir, write_local_project
from toolkit.adapters.postgres.connection import DatabaseTarget
from toolkit.commands.emulator import emulator_stop
from toolkit.deploy.context import Context
from toolkit.deploy.standin import stand_in
from toolkit.project.loader import load_project
from toolkit.terraform.outputs import DatabaseOutput

pytestmark = pytest.mark.slow

HOST = "orders-pr-8-pg.abcdefghij.eu-west-1.rds.amazonaws.com"


@pytest.fixture
def ctx(tmp_path):
    state_dir = new_state_dir()
    root = write_local_project(tmp_path / "project", port=0, state_dir=state_dir)
    try:
        yield Context(project=load_project(root))
    finally:
        remove_state_dir(state_dir)


def instance(secret: str) -> DatabaseOutput:
    return DatabaseOutput("postgres", HOST, 5432, "orders", "orders_admin", secret, None)


def target(password: str) -> DatabaseTarget:
    return DatabaseTarget(host=HOST, port=5432, name="orders", username="orders_admin", password=password)


def connect(address: DatabaseTarget, password: str):
    return psycopg2.connect(
        host=address.host, port=address.port, dbname="orders", user="orders_admin", password=password
    )


def test_a_new_instance_of_the_same_name_gets_an_empty_stand_in(ctx):
    env = ctx.project.environments["local"]
    first = stand_in(ctx, env, instance("arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-one"), target("pw-one"))
    with connect(first, "pw-one") as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (id int)")
    again = stand_in(ctx, env, instance("arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-one"), target("pw-one"))
    with connect(again, "pw-one") as conn, conn.cursor() as cur:  # the same instance: the same data
        cur.execute("SELECT to_regclass('kept') IS NOT NULL")
        assert cur.fetchone() == (True,)
    # moto restarted, the stacks applied again: an instance of the same name, a new secret and password
    renewed = stand_in(ctx, env, instance("arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-two"), target("pw-two"))
    with connect(renewed, "pw-two") as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('kept') IS NOT NULL")
        assert cur.fetchone() == (False,)
    with pytest.raises(psycopg2.OperationalError):  # the old password opens nothing any more
        connect(renewed, "pw-one").close()


def test_emulator_stop_takes_every_stand_in_with_it(ctx):
    env = ctx.project.environments["local"]
    address = stand_in(ctx, env, instance("arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-one"), target("pw"))
    connect(address, "pw").close()
    result = emulator_stop(ctx)
    assert not result.stopped and result.stand_ins_removed == ("orders-pr-8-pg",)
    with pytest.raises(psycopg2.OperationalError):
        connect(address, "pw").close()
    assert not ctx.paths.stand_ins("local").exists()
