"""A failing statement's secrets stay out of the message and the server's log: its error and DETAIL
quote the row's values and the file's literals, masked as the masking rules mask them; the embedded
server logs errors without the statement or DETAIL. Real embedded PostgreSQL through `env up`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.running import invoke

pytestmark = pytest.mark.slow

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSWORD = "Hunter2-distinct-9z"
ATTACKS = {
    "V900__dup.sql": f"CREATE TABLE k (v text PRIMARY KEY);\nINSERT INTO k VALUES ('{KEY_ID}');\nINSERT INTO k VALUES ('{KEY_ID}');\n",
    "V900__check.sql": f"CREATE TABLE c (v text CHECK (length(v) < 5));\nINSERT INTO c VALUES ('{SECRET_KEY}');\n",
    "V900__role.sql": f"ALTER ROLE no_such_role PASSWORD '{PASSWORD}';\n",
}


def test_a_failing_statement_never_shows_its_secrets(local_project, record_figure):
    up = invoke(local_project, "env", "up", "local")
    assert up.exit_code == 0, up.output
    state_dir = Path(tomllib.loads((local_project / "toolkit.toml").read_text())["project"]["state_dir"])
    for name, sql in ATTACKS.items():
        (local_project / "sql" / name).write_text(sql)
        failed = invoke(local_project, "db", "migrate", "local")
        assert failed.exit_code == 4, failed.output
        assert f"sql/{name}" in failed.output or name in failed.output, failed.output
        for secret in (KEY_ID, SECRET_KEY, PASSWORD):
            assert secret not in failed.output, failed.output
        (local_project / "sql" / name).unlink()
    logs = list(state_dir.rglob("postgres.log"))
    assert logs
    for log in logs:
        text = log.read_bytes()
        for secret in (KEY_ID, SECRET_KEY, PASSWORD):
            assert secret.encode() not in text, log
    record_figure("failing statements", f"{len(ATTACKS)} failing migrations: 0 secrets in messages or the server log")
