import re
from pathlib import Path

import pytest

from toolkit.config import Backend, Environment, EphemeralClass
from toolkit.environments import name_from_branch
from toolkit.errors import UsageError

TEMPLATE = Environment("ephemeral", {"infra": Path("/s")}, Backend("local"), ())
EPH = EphemeralClass(("pr-<n>", "eph-<slug>"), TEMPLATE, 72 * 3600, 24)


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("refs/pull/123/merge", "pr-123"),
        ("pull/7", "pr-7"),
        ("42", "pr-42"),
        ("feature/ABC-12_Fix", "eph-feature-abc-12-fix"),
        ("refs/heads/Hot--fix!!", "eph-hot-fix"),
    ],
)
def test_names(branch, expected):
    assert name_from_branch(branch, EPH) == expected
    assert EPH.matches(expected)


def test_long_names_are_cut_with_a_stable_hash_suffix():
    long_a = "feature/a-very-long-branch-name-about-billing-exports"
    long_b = "feature/a-very-long-branch-name-about-billing-imports"
    a, b = name_from_branch(long_a, EPH), name_from_branch(long_b, EPH)
    assert a == name_from_branch(long_a, EPH)  # stable
    assert a != b and len(a) <= 24 and len(b) <= 24
    assert re.fullmatch(r"eph-[a-z0-9-]+-[0-9a-f]{6}", a) and "--" not in a
    assert EPH.matches(a)


def test_no_ephemeral_class_is_a_usage_error():
    with pytest.raises(UsageError, match="declares no ephemeral environments"):
        name_from_branch("main", None)


def test_ephemeral_instances_are_created_on_demand():
    env = EPH.environment("pr-9")
    assert env.name == "pr-9" and env.ephemeral and env.create_workspace and env.ttl_seconds == 72 * 3600
    assert not EPH.matches("pr-x") and not EPH.matches("prd") and not EPH.matches("eph-" + "a" * 30)
