import re
from pathlib import Path

import pytest

from toolkit.errors import UsageError
from toolkit.project.model import Backend, Environment, EphemeralClass
from toolkit.project.names import name_from_branch

TEMPLATE = Environment("ephemeral", {"infra": Path("/s")}, Backend("local"), ())
EPH = EphemeralClass(("pr-<n>", "eph-<slug>"), TEMPLATE, 72 * 3600, 24)


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("refs/pull/123/merge", "pr-123"),
        ("pull/7", "pr-7"),
        ("42", "pr-42"),
        ("refs/heads/17", "pr-17"),
        ("fix-login", "eph-fix-login"),  # the slug says the branch exactly: no hash
        ("refs/heads/fix-login", "eph-fix-login"),
        # Slugging loses case, '/', '_', '!': a hash of the branch keeps the name apart from others'
        # (these two used to be eph-feature-abc-12-fix and eph-hot-fix, open to collisions)
        ("feature/ABC-12_Fix", "eph-feature-abc-1-5930b8"),
        ("refs/heads/Hot--fix!!", "eph-hot-fix-11b6b0"),
        ("ÄÖÜ", "eph-aou-1eccaa"),  # accents dropped (NFKD), and a hash since they were lost
        ("///", "eph-732c4e"),  # nothing left of it but the hash
    ],
)
def test_names(branch, expected):
    assert name_from_branch(branch, EPH) == expected
    assert EPH.matches(expected)


def test_branches_that_slug_alike_get_different_names():
    branches = [
        "///",
        "-",
        "ÄÖÜ",
        "aou",
        "日本語",
        "日本",
        "a_b",
        "a-b",
        "A-b",
        "a/b",
        "a.b",
        "a b",
        "feature/x",
        "feature-x",
    ]
    names = [name_from_branch(b, EPH) for b in branches]
    assert len(set(names)) == len(branches), dict(zip(branches, names, strict=True))
    assert all(EPH.matches(n) for n in names)


def test_refs_heads_is_stripped_before_anything_else():
    for branch in ("x", "feature/x", "feature/" + "very-long-" * 6 + "name", "Ünïcode_Branch"):
        assert name_from_branch(branch, EPH) == name_from_branch(f"refs/heads/{branch}", EPH)


@pytest.mark.parametrize("max_length", [8, 9, 12, 24, 40])
def test_every_name_fits_the_pattern_and_the_length(max_length):
    eph = EphemeralClass(("pr-<n>", "eph-<slug>"), TEMPLATE, 3600, max_length)
    branches = ["x", "main", "feature/long-name", "abcdefgh", "pull/123456789", "ÄÖÜ", "///", "a" * 60, "a-" * 30]
    for branch in branches:
        name = name_from_branch(branch, eph)
        assert eph.matches(name) and len(name) <= max_length, (branch, name)


def test_a_max_length_too_short_for_a_pattern_is_refused_by_name():
    eph = EphemeralClass(("eph-<slug>",), TEMPLATE, 3600, 7)
    with pytest.raises(UsageError, match="max_length 7 leaves no room"):
        name_from_branch("feature/x", eph)


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
