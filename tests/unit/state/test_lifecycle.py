"""Lifecycle records: the TTL counts from the last use; the tagged expiry is renewed only when it is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from toolkit.state.lifecycle import EnvironmentRecord, new_record, renewed

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = 3600


def test_a_record_counts_its_ttl_from_its_last_use(monkeypatch):
    monkeypatch.setenv("TOOLKIT_OWNER", "alice")
    record = new_record("pr-1", 2 * HOUR, branch="b", now=T0, commit="abc", use="env up")
    assert record.expires_at == T0 + timedelta(hours=2) == record.tag_expiry
    assert (record.owner, record.last_used_by, record.last_commit, record.last_use) == (
        "alice",
        "alice",
        "abc",
        "env up",
    )
    monkeypatch.setenv("TOOLKIT_OWNER", "bob")
    later = renewed(record, now=T0 + timedelta(hours=1.5), commit="def", use="plan")
    assert later.expires_at == T0 + timedelta(hours=3.5) and not later.expired(T0 + timedelta(hours=3))
    assert (later.owner, later.last_used_by, later.last_commit, later.last_use, later.branch) == (
        "alice",
        "bob",
        "def",
        "plan",
        "b",
    )
    assert later.tag_expiry == later.expires_at  # 30 minutes left of the tag: due


def test_the_tag_stays_while_more_than_half_its_ttl_is_left():
    record = new_record("pr-1", 2 * HOUR, branch=None, now=T0)
    soon = renewed(record, now=T0 + timedelta(minutes=50), commit=None, use="env up")
    assert soon.expires_at == T0 + timedelta(minutes=170)
    assert soon.tag_expiry == T0 + timedelta(hours=2)  # 70 minutes left: kept, so the plan stays empty


def test_extend_sets_a_ttl_of_its_own_and_tags_it_at_once():
    record = new_record("pr-1", 2 * HOUR, branch=None, now=T0)
    extended = renewed(record, now=T0 + timedelta(minutes=10), commit=None, use="env extend", ttl_seconds=7 * 86400)
    assert extended.ttl_seconds == 7 * 86400 and extended.tag_expiry == extended.expires_at
    assert renewed(extended, now=T0 + timedelta(days=1), commit=None, use="env up").expires_at == T0 + timedelta(days=8)


def test_a_record_from_before_renewal_counts_from_its_creation():
    old = EnvironmentRecord("pr-1", T0.isoformat(), 2 * HOUR, "alice", None)
    assert old.expires_at == T0 + timedelta(hours=2) == old.tag_expiry and old.expired(T0 + timedelta(hours=2))
