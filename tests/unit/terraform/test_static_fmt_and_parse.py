"""Rules (a) and (b) on Terraform's own output, as captured from `fmt -check -diff` and `providers`."""

from __future__ import annotations

from pathlib import Path

from toolkit.terraform.static import Finding, fmt_findings, loader_findings

ROOT = Path("/project")

FMT_DRIFT = """\
terraform/aws/infra/main.tf
--- old/terraform/aws/infra/main.tf
+++ new/terraform/aws/infra/main.tf
@@ -12,4 +12,4 @@
 variable "a" {
-  default=1
+  default = 1
 }
"""

DUPLICATE = """\
There are some problems with the CLI configuration:
\x1b[31m╷\x1b[0m
\x1b[31m│\x1b[0m \x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mDuplicate variable declaration\x1b[0m
\x1b[31m│\x1b[0m
\x1b[31m│\x1b[0m   on dup.tf line 2:
\x1b[31m│\x1b[0m    2: variable "a" {}
\x1b[31m│\x1b[0m
\x1b[31m│\x1b[0m A variable named "a" was already declared at main.tf:1,1-13. Variable names
\x1b[31m│\x1b[0m must be unique within a module.
\x1b[31m╵\x1b[0m
"""

BACKEND_ONLY = """\
╷
│ Error: Backend initialization required, please run "terraform init"
│
│ Reason: Initial configuration of the requested backend "s3"
╵
"""


def test_a_file_fmt_would_change_is_a_finding_at_its_first_changed_line():
    findings = fmt_findings(3, FMT_DRIFT, "", Path("terraform/aws/infra"), ROOT)
    assert findings == [
        Finding(
            "fmt",
            "terraform/aws/infra/main.tf",
            12,
            "not formatted as terraform fmt would write it (run: terraform fmt -recursive terraform/aws/infra)",
        )
    ]


def test_formatted_files_and_unreadable_files_are_no_fmt_finding():
    assert fmt_findings(0, "", "", Path("terraform/aws/infra"), ROOT) == []
    # exit 2: fmt could not parse a file; the parse rule reports it once, with its cause
    assert fmt_findings(2, "", "Error: Invalid expression", Path("terraform/aws/infra"), ROOT) == []


def test_fmt_failing_for_another_reason_is_a_finding():
    [finding] = fmt_findings(1, "", "boom", Path("terraform/aws/infra"), ROOT)
    assert finding.message == "terraform fmt failed: boom"


def test_a_loader_error_names_file_line_summary_and_detail():
    findings = loader_findings(1, DUPLICATE, ROOT / "terraform/local/infra", ROOT)
    assert findings == [
        Finding(
            "parse",
            "terraform/local/infra/dup.tf",
            2,
            'Duplicate variable declaration: A variable named "a" was already declared at main.tf:1,1-13. '
            "Variable names must be unique within a module.",
        )
    ]


def test_the_uninitialised_backend_means_the_configuration_loaded():
    assert loader_findings(1, BACKEND_ONLY, ROOT / "terraform/aws/infra", ROOT) == []


def test_an_engine_failing_without_diagnostics_is_never_a_pass():
    [finding] = loader_findings(127, "toolkit: the embedded Terraform engine is not available", ROOT / "x", ROOT)
    assert finding.rule == "parse" and "terraform providers failed" in finding.message
