"""What `env up` checks in the migration files before any stack runs, and the lint's policy in toolkit.toml:
severities, allowances per file and rule that leave the file (and its checksum) as it is, tables created
earlier in the same run, unknown placeholders with file, line and a did-you-mean. Files only: every
refusal here comes before Terraform runs."""

from __future__ import annotations

import json

from tests.running import invoke
from toolkit.migrations.checksum import flyway_checksum


def add_config(project, text: str) -> None:
    config = project / "toolkit.toml"
    config.write_text(config.read_text().replace("[environments.local]", text + "\n[environments.local]"))


def terraform_ran(project) -> bool:
    from toolkit.project.loader import load_project

    return (load_project(project).state_dir / "state").exists()


def test_an_unknown_placeholder_stops_env_up_before_any_stack_with_file_line_and_did_you_mean(local_project):
    (local_project / "sql" / "V6__grants.sql").write_text(
        "-- reporting reads orders\nGRANT SELECT ON orders TO ${db_usrname};\nSELECT '${database.host}', '${flyway:user}';\n"
    )
    result = invoke(local_project, "--engine", "/no/such/terraform", "env", "up", "local")
    assert result.exit_code == 1, result.output
    assert (
        "V6__grants.sql:2: unknown placeholder ${db_usrname} (did you mean ${db_username}?): give it a value in the "
        "environment's tfvars, a Terraform output or [migrations.placeholders]" in result.output
    )
    assert "database.host" not in result.output  # an output the stack declares: known before it runs
    assert not terraform_ran(local_project)


def test_an_unknown_key_of_a_declared_output_object_is_found_too(local_project):
    (local_project / "sql" / "V6__x.sql").write_text("SELECT '${database.hots}';\n")
    result = invoke(local_project, "--engine", "/no/such/terraform", "env", "up", "local")
    assert result.exit_code == 1
    assert "V6__x.sql:1: unknown placeholder ${database.hots}" in result.output


def test_constant_placeholders_in_toolkit_toml_are_known(local_project):
    add_config(local_project, '[migrations.placeholders]\nreporting_role = "reporting"\n')
    (local_project / "sql" / "V6__x.sql").write_text("GRANT SELECT ON orders TO ${reporting_role};\n")
    result = invoke(local_project, "--engine", "/no/such/terraform", "env", "up", "local")
    assert "unknown placeholder" not in result.output
    assert "unknown engine '/no/such/terraform'" in result.output  # validation passed; the engine is next


def test_a_lint_allowance_in_toolkit_toml_accepts_a_rule_for_one_file_without_editing_it(local_project):
    text = "ALTER TABLE customers DROP COLUMN marketing_opt_in;\n"
    (local_project / "sql" / "V6__drop_opt_in.sql").write_text(text)
    refused = invoke(local_project, "db", "lint")
    assert refused.exit_code == 1
    assert (
        "V6__drop_opt_in.sql:1: drop-column: DROP COLUMN customers.marketing_opt_in: DROP COLUMN deletes the column's "
        "data and breaks readers that select it" in refused.output
    )
    add_config(local_project, '[migrations.lint.allow]\n"V6__drop_opt_in.sql" = ["drop-column"]\n')
    allowed = invoke(local_project, "db", "lint", "--json")
    assert allowed.exit_code == 0, allowed.output
    (finding,) = json.loads(allowed.output)["findings"]
    assert (finding["rule"], finding["allowed"], finding["severity"]) == ("drop-column", True, "error")
    assert (local_project / "sql" / "V6__drop_opt_in.sql").read_text() == text  # and so its checksum
    assert flyway_checksum(text) == flyway_checksum((local_project / "sql" / "V6__drop_opt_in.sql").read_text())


def test_an_allowance_for_another_rule_or_another_file_allows_nothing(local_project):
    (local_project / "sql" / "V6__drop.sql").write_text("ALTER TABLE customers DROP COLUMN email;\n")
    add_config(
        local_project,
        '[migrations.lint.allow]\n"V6__drop.sql" = ["truncate"]\n"V5__add_customer_marketing_opt_in.sql" = ["drop-column"]\n',
    )
    assert invoke(local_project, "db", "lint").exit_code == 1


def test_an_allowance_naming_no_file_or_no_rule_is_a_config_error(local_project):
    add_config(local_project, '[migrations.lint.allow]\n"V6__nope.sql" = ["drop-column"]\n')
    result = invoke(local_project, "db", "lint")
    assert result.exit_code == 3
    assert (
        "toolkit.toml:migrations.lint.allow.\"V6__nope.sql\": no migration 'V6__nope.sql' under sql/" in result.output
    )
    config = local_project / "toolkit.toml"
    config.write_text(
        config.read_text().replace('"V6__nope.sql" = ["drop-column"]', '"V1__create_customers.sql" = ["drop-colum"]')
    )
    result = invoke(local_project, "db", "lint")
    assert result.exit_code == 3
    assert (
        "unknown lint rule(s) drop-colum" in result.output and "hint: one of drop-table, drop-column" in result.output
    )


def test_a_rule_made_a_warning_is_reported_and_never_refused(local_project):
    (local_project / "sql" / "V6__rename.sql").write_text("ALTER TABLE customers RENAME COLUMN email TO mail;\n")
    add_config(local_project, '[migrations.lint.severity]\nrename = "warning"\n')
    result = invoke(local_project, "db", "lint")
    assert result.exit_code == 0, result.output
    assert "V6__rename.sql:1: warning: rename: RENAME customers.email TO mail" in result.output
    config = local_project / "toolkit.toml"
    config.write_text(config.read_text().replace('rename = "warning"', 'rename = "fatal"'))
    bad = invoke(local_project, "db", "lint")
    assert bad.exit_code == 3 and "migrations.lint.severity.rename: 'fatal' is not a severity" in bad.output


def test_a_table_created_earlier_in_the_same_run_is_no_reason_to_refuse(local_project):
    """A new environment runs every file: V6 creates a table, V7 indexes it without CONCURRENTLY. Nobody reads
    that table yet, so env up goes on (a warning says where it would be refused: where the table exists)."""
    (local_project / "sql" / "V6__events.sql").write_text("CREATE TABLE events (id bigint, at timestamptz);\n")
    (local_project / "sql" / "V7__events_at.sql").write_text("CREATE INDEX events_at ON events (at);\n")
    result = invoke(local_project, "--engine", "/no/such/terraform", "env", "up", "local")
    assert "index-without-concurrently" not in result.output
    assert "unknown engine" in result.output
    # a table no file of the run creates is one that already exists where this runs: refused
    (local_project / "sql" / "V8__legacy.sql").write_text("CREATE INDEX legacy_at ON legacy_events (at);\n")
    result = invoke(local_project, "--engine", "/no/such/terraform", "env", "up", "local")
    assert result.exit_code == 1
    assert "V8__legacy.sql:1: index-without-concurrently: CREATE INDEX on legacy_events" in result.output
    assert "V7__events_at.sql" not in result.output
    assert not terraform_ran(local_project)


def test_lint_on_its_own_judges_each_file_alone(local_project):
    (local_project / "sql" / "V6__events.sql").write_text("CREATE TABLE events (id bigint, at timestamptz);\n")
    (local_project / "sql" / "V7__events_at.sql").write_text("CREATE INDEX events_at ON events (at);\n")
    result = invoke(local_project, "db", "lint")
    assert result.exit_code == 1  # in an environment where V6 ran long ago, V7 blocks writes to a busy table
    assert "V7__events_at.sql:1: index-without-concurrently" in result.output


def add_dev(project) -> None:
    config = project / "toolkit.toml"
    local = config.read_text().split("[environments.local]")[1]
    config.write_text(config.read_text() + "\n[environments.dev]" + local)


def test_environment_files_that_do_not_run_here_are_not_judged(local_project):
    add_dev(local_project)
    (local_project / "sql" / "V6__dev_only.sql").write_text(
        "-- toolkit:environments=dev\nTRUNCATE customers;\nSELECT '${only_in_dev}';\n"
    )
    result = invoke(local_project, "--engine", "/no/such/terraform", "env", "up", "local")
    assert "V6__dev_only.sql" not in result.output and "unknown engine" in result.output
