"""The first two stacks' plans made as the run begins: kept only when their inputs turned out the same, and
otherwise, or when the run fails (validation included) or is interrupted, stopped with no Terraform
process, saved plan or injected values left behind, and nothing of them shown. Real Terraform and
PostgreSQL, through the CLI."""

from __future__ import annotations

import os
import signal
import threading

import psutil
import pytest

from tests.running import invoke
from toolkit.deploy import speculation
from toolkit.terraform.stack import Stack

pytestmark = pytest.mark.slow


def up(project, *args):
    result = invoke(project, *args, "env", "up", "local")
    assert result.exit_code == 0, result.output
    return result


def terraform_children() -> list[psutil.Process]:
    return [p for p in psutil.Process(os.getpid()).children(recursive=True) if "terraform" in " ".join(p.cmdline())]


def leftovers(project) -> list[str]:
    """Saved plans and injected-value files under the project's state folder."""
    state_dir = (project / "toolkit.toml").read_text().split('state_dir = "')[1].split('"')[0]
    found = []
    for folder, _dirs, names in os.walk(state_dir):
        found += [os.path.join(folder, n) for n in names if n.endswith(".tfplan") or n == "inputs.tfvars.json"]
    return found


def test_a_no_op_keeps_the_plans_made_early(full_local_project):
    up(full_local_project)
    again = up(full_local_project, "-v")
    assert "infra: planned while the run validated, from the same inputs" in again.output
    assert again.output.index("ok validate") < again.output.index("> terraform: infra")
    assert again.output.index("> terraform: infra") < again.output.index("Refreshing state")  # held until then
    assert "pipelines: planned alongside infra, from the same inputs" in again.output
    assert again.output.index("> terraform: pipelines") < again.output.index("planned alongside")
    assert again.output.index("> database") < again.output.index("> terraform: pipelines")
    assert leftovers(full_local_project) == [] and terraform_children() == []


def test_a_changed_first_stack_drops_the_plan_and_plans_again(full_local_project):
    up(full_local_project)
    outputs = full_local_project / "terraform" / "local" / "infra" / "outputs.tf"
    outputs.write_text(outputs.read_text() + '\noutput "extra_for_test" {\n  value = "x"\n}\n')
    plans = []
    real = Stack.plan

    def plan(self, plan_file, **kwargs):
        plans.append(self.target.stack)
        return real(self, plan_file, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Stack, "plan", plan)
        again = up(full_local_project)
    assert "planned alongside" not in again.output
    assert plans == ["infra", "pipelines"]  # the speculation was dropped and the stack planned again
    assert leftovers(full_local_project) == [] and terraform_children() == []


def test_a_failing_first_plan_stops_the_one_alongside(full_local_project, monkeypatch):
    up(full_local_project)
    (full_local_project / "terraform" / "local" / "infra" / "broken.tf").write_text('resource "nope" {\n')
    failed = invoke(full_local_project, "env", "up", "local")
    assert failed.exit_code != 0
    assert "terraform: infra" in failed.output and "terraform: pipelines" not in failed.output
    assert leftovers(full_local_project) == [] and terraform_children() == []
    (full_local_project / "terraform" / "local" / "infra" / "broken.tf").unlink()
    up(full_local_project)  # no lock left behind


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_while_both_plan_leaves_nothing_behind(full_local_project, monkeypatch, sig):
    up(full_local_project)
    real = speculation._start

    def start(*args):
        started = real(*args)
        assert started is not None
        if args[3] == "pipelines":  # both plans are running now
            threading.Timer(0.02, os.kill, (os.getpid(), sig)).start()
        return started

    monkeypatch.setattr(speculation, "_start", start)
    stopped = invoke(full_local_project, "env", "up", "local")
    assert stopped.exit_code != 0
    assert leftovers(full_local_project) == [] and terraform_children() == []
    monkeypatch.undo()
    up(full_local_project)  # the locks were released


def test_a_killed_plan_alongside_is_reported_at_its_own_step(full_local_project, monkeypatch):
    up(full_local_project)
    real = speculation._start

    def start(*args):
        started = real(*args)
        if args[3] == "pipelines":
            for child in terraform_children():
                if "pipelines" in " ".join(child.cmdline()):
                    child.kill()
        return started

    monkeypatch.setattr(speculation, "_start", start)
    failed = invoke(full_local_project, "env", "up", "local")
    assert failed.exit_code != 0
    assert "step 'terraform: pipelines' failed" in failed.output
    assert leftovers(full_local_project) == [] and terraform_children() == []
    monkeypatch.undo()
    up(full_local_project)


def test_a_failed_validation_stops_the_plans_made_early_and_shows_nothing_of_them(full_local_project, monkeypatch):
    """The attack: both plans are running when validation refuses the run. Nothing is applied, no line of
    either plan is shown, no process, saved plan, injected values or state lock outlives the run."""
    up(full_local_project)
    started = []
    real = speculation._start

    def start(*args):
        plan = real(*args)
        started.append((args[3], plan is not None))
        return plan

    monkeypatch.setattr(speculation, "_start", start)
    duplicate = full_local_project / "sql" / "V1__the_same_version_again.sql"
    duplicate.write_text("CREATE TABLE never_made (id int);\n", encoding="utf-8")
    failed = invoke(full_local_project, "-v", "env", "up", "local")
    assert failed.exit_code != 0
    assert started == [("infra", True), ("pipelines", True)]
    assert "step 'validate' failed" in failed.output
    assert "terraform: infra" not in failed.output and "Refreshing state" not in failed.output
    assert leftovers(full_local_project) == [] and terraform_children() == []
    duplicate.unlink()
    monkeypatch.undo()
    again = up(full_local_project, "-v")  # no lock left behind, and nothing had changed
    assert "infra: no changes" in again.output
