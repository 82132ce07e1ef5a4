"""Which files could change the session: a false alarm costs a reset, a miss leaks a setting."""

from __future__ import annotations

import pytest

from toolkit.migrations.session import SessionRisk, file_risk

NONE, SETTINGS, CODE = SessionRisk.NONE, SessionRisk.SETTINGS, SessionRisk.CODE


@pytest.mark.parametrize(
    ("text", "risk"),
    [
        ("CREATE TABLE t (id int PRIMARY KEY, label text DEFAULT 'x');\nINSERT INTO t VALUES (1);\n", NONE),
        ("SELECT current_setting('work_mem'), dataset, set_up, reset_at, roles FROM t;\n", NONE),
        ("SET search_path TO other;\n", SETTINGS),
        ("set\twork_mem = '7MB';\n", SETTINGS),
        ("RESET search_path;\n", SETTINGS),
        ("DISCARD ALL;\n", SETTINGS),
        ("UPDATE t SET a = 1;\n", SETTINGS),  # a false alarm: it costs a reset
        ("-- SET in a comment still counts\nSELECT 1;\n", SETTINGS),
        ("INSERT INTO t VALUES ('SET ROLE x');\n", SETTINGS),
        ("SELECT 1set;\n", SETTINGS),
        ("SELECT set_config('work_mem', '7MB', false);\n", CODE),
        ("SELECT PG_CATALOG.SET_CONFIG('a', 'b', false);\n", CODE),
        ("SELECT \"set_config\"('a', 'b', false);\n", CODE),
        ("SELECT U&\"set\\005fconfig\"('a', 'b', false);\n", CODE),
        ("DO $$BEGIN NULL; END$$;\n", CODE),
        ("CALL p();\n", CODE),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n", CODE),
        ("CREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n", CODE),
        ("CREATE RULE r AS ON INSERT TO t DO ALSO NOTIFY t;\n", CODE),
        ("SELECT query_to_xml('SELECT 1', true, false, '');\n", CODE),
        ("SELECT * FROM ts_stat('SELECT v FROM t');\n", CODE),
        ("LOAD 'auto_explain';\n", CODE),
        ("FETCH ALL FROM c;\n", CODE),
        ("CREATE EXTENSION pgcrypto;\n", CODE),
    ],
)
def test_file_risk(text, risk):
    assert file_risk(text) is risk
