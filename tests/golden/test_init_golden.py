"""Golden folders for `toolkit init`: a new project (golden/init/) and a Flyway project taken over
(golden/flyway/): every file written and every line printed, exactly; the Flyway project's own files are
never touched. `<ROOT>` and `<PORT>` stand for the folder and the port init chose for it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.running import invoke

GOLDEN = Path(__file__).resolve().parent


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def normalised(text: str, root: Path, port: int) -> str:
    return text.replace(str(root), "<ROOT>").replace(str(port), "<PORT>")


def port_of(root: Path) -> int:
    return json.loads((root / "tfvars" / "local.tfvars.json").read_text())["db_port"]


def test_init_writes_a_minimal_project_exactly(tmp_path):
    root = tmp_path / "orders"
    root.mkdir()
    result = invoke(root, "init")
    assert result.exit_code == 0, result.output
    port = port_of(root)
    assert normalised(result.stdout, root.resolve(), port) == (GOLDEN / "init" / "init.txt").read_text()
    written = {path: normalised(text.decode(), root, port) for path, text in tree(root).items()}
    assert written == {path: text.decode() for path, text in tree(GOLDEN / "init" / "expected").items()}


def test_init_refuses_to_write_over_anything_and_writes_nothing(tmp_path):
    root = tmp_path / "orders"
    (root / "tfvars").mkdir(parents=True)
    (root / "tfvars" / "local.tfvars.json").write_text('{"mine": true}')
    (root / "toolkit.mk").write_text("# mine\n")
    result = invoke(root, "init")
    assert result.exit_code == 3
    assert f"would write over tfvars/local.tfvars.json, toolkit.mk in {root.resolve()}; nothing was written" in (
        result.output
    )
    assert tree(root) == {"tfvars/local.tfvars.json": b'{"mine": true}', "toolkit.mk": b"# mine\n"}
    assert invoke(root, "init", "--json").stdout.startswith('{\n  "error"')


def test_init_in_a_project_refuses(local_project):
    result = invoke(local_project, "init")
    assert result.exit_code == 3 and "this folder is a toolkit project already" in result.output


def test_two_checkouts_get_different_ports_and_one_checkout_always_the_same(tmp_path):
    from toolkit.project.scaffold import checkout_port

    ports = {checkout_port(tmp_path / f"clone-{n}") for n in range(20)}
    assert len(ports) > 15  # spread over the range, not one port for all
    assert checkout_port(tmp_path / "clone-1") == checkout_port(tmp_path / "clone-1")


def test_a_flyway_project_is_taken_over_with_no_file_edited(tmp_path):
    root = tmp_path / "orders"
    shutil.copytree(GOLDEN / "flyway" / "project", root)
    before = tree(root)
    result = invoke(root, "init", "--from-flyway", str(root / "flyway.conf"))
    assert result.exit_code == 0, result.output
    port = port_of(root)
    expected = (GOLDEN / "flyway" / "expected" / "init.txt").read_text()
    assert normalised(result.stdout, root.resolve(), port).replace("<ROOT>/flyway.conf", "flyway.conf") == expected
    assert "not-a-real-password" not in result.output  # Flyway's password is never taken over, nor shown
    assert (root / "toolkit.toml").read_text() == (GOLDEN / "flyway" / "expected" / "toolkit.toml").read_text()
    assert (
        normalised((root / "tfvars" / "local.tfvars.json").read_text(), root, port)
        == (GOLDEN / "flyway" / "expected" / "local.tfvars.json").read_text()
    )
    after = tree(root)
    assert {path: after[path] for path in before} == before  # every Flyway file byte for byte
    assert not (root / "sql" / ".gitkeep").exists()

    from toolkit.deploy.context import Context
    from toolkit.deploy.validation import load_migrations
    from toolkit.project.loader import load_project

    loaded = load_migrations(Context(load_project(root)))
    assert [s.script for s in loaded] == [
        "reference/V1__create_customers.sql",
        "V2__seed_regions.sql",
        "V3__drop_legacy_note.sql",
        "V4__.sql",
        "V5__more_regions.sql",
        "R__customer_view_.sql",
    ]  # V6-draft.sql skipped as Flyway skips it; B1 and queries.sql are not toolkit's to run
    assert [s.file.description for s in loaded][3:] == ["", "more regions", "customer view "]


def test_flyway_toml_is_read_too(tmp_path):
    root = tmp_path / "orders"
    (root / "db" / "migration").mkdir(parents=True)
    (root / "flyway.toml").write_text(
        '[environments.default]\nurl = "jdbc:postgresql://db/orders"\nschemas = ["sales", "audit"]\n\n'
        '[flyway]\nlocations = ["filesystem:db/migration"]\ntable = "schema_version"\noutOfOrder = true\n'
        'validateMigrationNaming = true\n\n[flyway.placeholders]\nowner = "sales_owner"\n'
    )
    result = invoke(root, "init", "--from-flyway", str(root / "flyway.toml"))
    assert result.exit_code == 0, result.output
    config = (root / "toolkit.toml").read_text()
    for line in (
        'sql = "db/migration"',
        'history_table = "schema_version"',
        'schema = "sales"',
        "out_of_order = true",
        "validate_migration_naming = true\n",
        'owner = "sales_owner"',
    ):
        assert line in config
    assert "note: flyway.schemas: only 'sales' is the default schema; toolkit manages no other" in result.stdout


def test_a_mysql_flyway_project_gets_the_mysql_engine(tmp_path):
    root = tmp_path / "orders"
    (root / "sql").mkdir(parents=True)
    (root / "flyway.conf").write_text("flyway.url=jdbc:mysql://db:3306/orders\nflyway.locations=filesystem:sql\n")
    result = invoke(root, "init", "--from-flyway", str(root / "flyway.conf"))
    assert result.exit_code == 0, result.output
    assert 'engine = "mysql"\n' in (root / "toolkit.toml").read_text()
    assert 'note: flyway.url is a MySQL database: engine = "mysql"' in result.stdout


def test_what_toolkit_cannot_take_over_is_refused_naming_the_key(tmp_path):
    root = tmp_path / "orders"
    (root / "sql").mkdir(parents=True)
    conf = root / "flyway.conf"
    for line, message in (
        ("flyway.locations=filesystem:sql,filesystem:more", "flyway.locations: names 2 locations"),
        ("flyway.sqlMigrationPrefix=M", "flyway.sqlMigrationPrefix: 'M': toolkit reads Flyway's default 'V' only"),
        ("flyway.placeholderPrefix=#[", "flyway.placeholderPrefix: '#[': toolkit reads Flyway's default '${' only"),
        ("flyway.locations=filesystem:nowhere", "flyway.locations: 'filesystem:nowhere': no folder"),
    ):
        conf.write_text(line + "\n")
        result = invoke(root, "init", "--from-flyway", str(conf))
        assert result.exit_code == 3, result.output
        assert f"{conf}:{message}" in result.output
        assert not (root / "toolkit.toml").exists()
