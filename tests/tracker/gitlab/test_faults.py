"""Faults: rate limits, 5xx bursts, lost answers to creates, refused tokens, refused writes.
Every fault test ends with exactly one object per create."""

from __future__ import annotations

import time

import pytest

from secplan.errors import ConflictError, ForbiddenError, RateLimitedError, TrackerError
from secplan.tracker.base import IssueUpdate
from tests.tracker.gitlab.conftest import epic_marker, marker

ISSUES = r"^projects/sec/planning/issues$"


def test_429_then_success_obeys_retry_after(make_tracker, gitlab_fake, sleeps):
    tracker = make_tracker()
    gitlab_fake.fail(
        "POST", ISSUES, 429, headers={"Retry-After": "7"}, body={"message": "Retry later"}
    )
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    assert len(gitlab_fake.issues_in("sec/planning")) == 1
    assert issue.iid == 1
    assert 7.0 in sleeps
    assert tracker.stats.retries == 1 and tracker.stats.waits >= 1


def test_429_obeys_ratelimit_reset(make_tracker, gitlab_fake, sleeps):
    tracker = make_tracker()
    reset = int(time.time()) + 30
    gitlab_fake.fail("GET", ISSUES, 429, headers={"RateLimit-Reset": str(reset)})
    tracker.list_issues("sec/planning")
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31


def test_rate_limited_past_every_retry_raises(make_tracker, gitlab_fake):
    tracker = make_tracker(max_retries=2)
    gitlab_fake.fail("GET", ISSUES, 429, times=10, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitedError) as info:
        tracker.list_issues("sec/planning")
    assert info.value.retry_after == 1.0
    assert gitlab_fake.count("GET", ISSUES) == 3


def test_5xx_burst_on_reads_is_retried_with_backoff(make_tracker, gitlab_fake, sleeps):
    tracker = make_tracker()
    tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    gitlab_fake.fail("GET", ISSUES, 502, times=3)
    assert len(tracker.find_issues("sec/planning", marker("a", "1"))) == 1
    assert sleeps == [0.5, 1.0, 2.0]  # exponential backoff
    assert tracker.stats.retries == 3


def test_a_read_that_timed_out_is_retried_with_backoff(make_tracker, gitlab_fake, sleeps):
    tracker = make_tracker(timeout=0.5)
    tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    gitlab_fake.delay("GET", ISSUES, 1.5)
    assert len(tracker.find_issues("sec/planning", marker("a", "1"))) == 1
    assert gitlab_fake.count("GET", ISSUES) == 2
    assert sleeps == [0.5] and tracker.stats.retries == 1


def test_5xx_on_a_create_that_did_not_happen_looks_first_then_creates_once(
    make_tracker, gitlab_fake
):
    tracker = make_tracker()
    gitlab_fake.fail("POST", ISSUES, 503, times=2)
    tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    assert len(gitlab_fake.issues_in("sec/planning")) == 1
    assert gitlab_fake.count("POST", ISSUES) == 3
    # before each new POST, a marker search
    assert gitlab_fake.count("GET", ISSUES) == 2


def test_create_that_succeeded_but_timed_out_is_not_duplicated(make_tracker, gitlab_fake):
    tracker = make_tracker(timeout=0.5)
    gitlab_fake.delay("POST", ISSUES, 1.5)
    issue = tracker.create_issue("sec/planning", "Item", f"text\n{marker('a', '1')}")
    assert [i.iid for i in gitlab_fake.issues_in("sec/planning")] == [issue.iid]
    assert gitlab_fake.count("POST", ISSUES) == 1


@pytest.mark.parametrize("gitlab_fake", ["ultimate"], indirect=True)
def test_epic_create_that_timed_out_is_not_duplicated(make_tracker, gitlab_fake):
    tracker = make_tracker(timeout=0.5)
    assert tracker.capabilities.epics == "work_items"  # probe first: a query, not the mutation
    gitlab_fake.delay("POST", r"^graphql$", 1.5)
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"))
    assert [e.iid for e in gitlab_fake.state.epics] == [epic.iid]


def test_401_stops_at_once_with_a_clear_message(make_tracker, gitlab_fake):
    tracker = make_tracker(token="glpat-wrong-token-000")
    with pytest.raises(ForbiddenError) as info:
        tracker.create_issue("sec/planning", "Item", marker("a", "1"))
    assert "rejected the token" in str(info.value) and "401" in str(info.value)
    assert "api" in (info.value.hint or "")
    assert gitlab_fake.state.issues == []
    with pytest.raises(ForbiddenError):
        tracker.check_access(["sec/planning"], ["sec"])


def test_403_insufficient_scope_names_the_scope(make_tracker, gitlab_fake):
    tracker = make_tracker()
    gitlab_fake.state.scopes = ["read_api"]
    with pytest.raises(ForbiddenError, match="`api` scope"):
        tracker.create_milestone("sec", "M1")


def test_mutation_with_errors_is_a_conflict(make_tracker, gitlab_fake):
    tracker = make_tracker()
    gitlab_fake.mutation_errors("workItemCreate", ["Title is too long (maximum is 255)"])
    with pytest.raises(ConflictError, match="Title is too long"):
        tracker.create_epic("sec", "Plan", epic_marker("a"))
    assert gitlab_fake.state.epics == []


@pytest.mark.parametrize("gitlab_fake", ["ultimate", "premium"], indirect=True)
def test_confidential_epic_refuses_a_public_issue(make_tracker, gitlab_fake):
    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"), confidential=False)
    issue = tracker.create_issue("sec/planning", "Item", marker("a", "1"), confidential=False)
    # someone makes the epic confidential in GitLab after secplan read it
    gitlab_fake.state.epics[0].confidential = True
    with pytest.raises(ConflictError) as info:
        tracker.update_issue(issue.ref, IssueUpdate(epic=epic.ref))
    assert "confidential" in str(info.value)
    assert info.value.hint and "confidential" in info.value.hint
    assert gitlab_fake.state.issues[0].epic_wi is None


def test_confidential_epic_known_confidential_is_refused_before_any_write(
    make_tracker, gitlab_fake
):
    tracker = make_tracker()
    epic = tracker.create_epic("sec", "Plan", epic_marker("a"))
    writes = tracker.stats.writes
    with pytest.raises(ConflictError, match="confidential epic"):
        tracker.create_issue(
            "sec/planning", "Item", marker("a", "1"), confidential=False, epic=epic.ref
        )
    assert tracker.stats.writes == writes
    assert gitlab_fake.state.issues == []


def test_network_down_is_a_tracker_error(make_tracker, gitlab_fake):
    tracker = make_tracker(max_retries=1)
    gitlab_fake.stop()
    with pytest.raises(TrackerError, match="did not answer"):
        tracker.list_issues("sec/planning")


@pytest.mark.parametrize(
    ("what", "path"),
    [
        ("milestone", r"/milestones$"),
        ("note", r"/notes$"),
        ("label", r"/labels$"),
        ("link", r"/links$"),
    ],
)
def test_every_lost_create_is_looked_for_before_sending_again(
    make_tracker, gitlab_fake, what, path
):
    tracker = make_tracker(timeout=0.5)
    a = tracker.create_issue("sec/planning", "A", marker("a", "1"))
    b = tracker.create_issue("sec/planning", "B", marker("a", "2"))
    before = gitlab_fake.count("POST", path)
    gitlab_fake.delay("POST", path, 1.5)
    if what == "milestone":
        tracker.create_milestone("sec", "M1")
        assert len(gitlab_fake.state.milestones) == 1
    elif what == "note":
        tracker.add_note(a.ref, "hello")
        assert [
            n.body for n in gitlab_fake.state.notes[("issue", gitlab_fake.state.issues[0].id)]
        ] == ["hello"]
    elif what == "label":
        tracker.update_issue(a.ref, IssueUpdate(add_labels=["fresh"]))
        assert list(gitlab_fake.state.labels["sec"]).count("fresh") == 1
    else:
        tracker.link_issues(a.ref, b.ref)
        assert len(gitlab_fake.state.links) == 1
    assert gitlab_fake.count("POST", path) - before == 1
