"""``create_issue`` builds its result without reading the row back, and caches namespaces and
labels: the result must equal what a read returns, and a rolled-back transaction must not leave
a cached id behind."""

from __future__ import annotations

from datetime import date

import pytest

from secplan.errors import NotFoundError
from secplan.tracker.local import LocalTracker


def test_the_returned_issue_equals_the_stored_one(tracker: LocalTracker) -> None:
    tracker.create_milestone("sec", "Q3", due=date(2027, 9, 30))  # two levels above the project
    epic = tracker.create_epic("sec/app", "Hardening")
    made = tracker.create_issue(
        "sec/app/plans",
        "  Rotate   keys ",
        "body",
        labels=["b", "a", "b", " "],
        milestone="Q3",
        assignees=["rin", "rin"],
        confidential=False,
        epic=epic.ref,
    )
    assert made == tracker.get_issue(made.ref)
    assert (made.title, made.labels, made.assignees) == ("Rotate keys", ["b", "a"], ["rin"])
    assert (made.milestone, made.epic, made.state) == ("Q3", "sec/app&1", "opened")
    assert tracker.list_labels("sec/app") == ["a", "b"]
    assert [e.state for e in tracker.state_events([made.ref])] == ["opened"]


def test_a_rolled_back_transaction_leaves_nothing_cached(tracker: LocalTracker) -> None:
    with pytest.raises(RuntimeError), tracker.transaction():
        tracker.create_issue("ghost/app/plans", "Never committed", labels=["ghost"])
        raise RuntimeError("abort")
    assert tracker.list_issues(state="all") == []
    # Namespaces and labels made by the rolled-back transaction are created again, not reused.
    again = tracker.create_issue("ghost/app/plans", "Committed", labels=["ghost"])
    assert again.ref == "ghost/app/plans#1"
    assert tracker.get_issue(again.ref) == again
    assert tracker.list_labels("ghost/app") == ["ghost"]


def test_a_failed_create_leaves_nothing_cached(tracker: LocalTracker) -> None:
    with pytest.raises(NotFoundError, match="milestone 'Nope' not found in fresh/app"):
        tracker.create_issue("fresh/app/plans", "Needs a milestone", milestone="Nope")
    made = tracker.create_issue("fresh/app/plans", "Without one")
    assert made.ref == "fresh/app/plans#1"
    assert tracker.get_issue(made.ref) == made


def test_a_second_tracker_sees_namespaces_the_first_cached(
    tracker: LocalTracker, database_url: str, tmp_path: object
) -> None:
    from pathlib import Path

    from secplan.tracker import open_tracker

    first = tracker.create_issue("sec/app/plans", "One", labels=["x"])
    with open_tracker(Path(str(tmp_path)), database_url) as other:
        second = other.create_issue("sec/app/plans", "Two", labels=["x"])
    third = tracker.create_issue("sec/app/plans", "Three", labels=["x"])
    assert [first.iid, second.iid, third.iid] == [1, 2, 3]
    assert tracker.list_labels("sec/app") == ["x"]
