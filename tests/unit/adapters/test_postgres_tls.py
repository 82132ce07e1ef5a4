"""Connections to a database off this machine use TLS; the embedded local server keeps libpq's default."""

from __future__ import annotations

import pytest

from toolkit.adapters.postgres.connection import DatabaseTarget, tls_kwargs

RDS = "orders-dev-pg.abcdefghijkl.eu-west-1.rds.amazonaws.com"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost", "/var/run/postgresql"])
def test_the_local_server_gets_no_tls_settings(host):
    assert tls_kwargs(host, {"TOOLKIT_DB_SSLROOTCERT": "/etc/rds/global-bundle.pem"}) == {}


@pytest.mark.parametrize("host", [RDS, "10.20.0.5", "db.internal"])
def test_a_remote_server_requires_tls(host):
    assert tls_kwargs(host, {}) == {"sslmode": "require"}


def test_a_ca_bundle_makes_it_verify_the_server_and_its_name():
    bundle = {"sslmode": "verify-full", "sslrootcert": "/etc/rds/global-bundle.pem"}
    assert tls_kwargs(RDS, {"TOOLKIT_DB_SSLROOTCERT": "/etc/rds/global-bundle.pem"}) == bundle
    assert tls_kwargs(RDS, {"PGSSLROOTCERT": "/etc/rds/global-bundle.pem"}) == bundle
    ours_first = {"TOOLKIT_DB_SSLROOTCERT": "/etc/rds/global-bundle.pem", "PGSSLROOTCERT": "/elsewhere.pem"}
    assert tls_kwargs(RDS, ours_first) == bundle


def test_connect_kwargs_carry_the_tls_settings():
    target = DatabaseTarget(host=RDS, port=5432, name="orders", username="orders_admin", password="pw")
    kwargs = target.connect_kwargs({"TOOLKIT_DB_SSLROOTCERT": "/b.pem"})
    assert (kwargs["sslmode"], kwargs["sslrootcert"], kwargs["host"]) == ("verify-full", "/b.pem", RDS)
    local = DatabaseTarget(host="127.0.0.1", port=54329, name="orders", username="orders_app", password="pw")
    assert "sslmode" not in local.connect_kwargs({})
