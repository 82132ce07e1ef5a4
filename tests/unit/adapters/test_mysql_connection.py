"""MySQL connection settings: TLS off this machine (verified with a CA bundle), a socket for a path."""

from __future__ import annotations

from toolkit.adapters.mysql.connection import connect_kwargs, ssl_options
from toolkit.adapters.postgres.connection import DatabaseTarget


def test_tls_for_remote_hosts_only():
    assert ssl_options("127.0.0.1", {}) is None and ssl_options("localhost", {}) is None
    assert ssl_options("db.example.internal", {}) == {"check_hostname": False}
    bundle = {"TOOLKIT_DB_SSLROOTCERT": "/etc/rds.pem"}
    assert ssl_options("db.example.internal", bundle) == {"ca": "/etc/rds.pem", "check_hostname": True}


def test_a_socket_path_and_the_masked_url():
    target = DatabaseTarget("/run/mysqld/mysqld.sock", 3306, "orders", "app", "s3cret", engine="mysql")
    kwargs = connect_kwargs(target, {})
    assert kwargs["unix_socket"] == "/run/mysqld/mysqld.sock" and "host" not in kwargs
    assert kwargs["autocommit"] is True and kwargs["database"] == "orders"
    assert target.url == "mysql://app:***@/run/mysqld/mysqld.sock:3306/orders" and "s3cret" not in repr(target)
