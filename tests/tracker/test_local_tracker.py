"""The embedded tracker behaves like GitLab: refs, iids, milestones, markers, notes, events."""

from __future__ import annotations

import pytest

from secplan.errors import NotFoundError, TrackerError, UsageError
from secplan.tracker.base import EpicUpdate, IssueUpdate, MilestoneUpdate
from secplan.tracker.local import LocalTracker

MARKER = "<!-- secplan:plan=tls-rotation item=inventory -->"


def test_issues_are_confidential_by_default_and_numbered_per_project(
    tracker: LocalTracker,
) -> None:
    a1 = tracker.create_issue("sec/appsec/plans", "First")
    a2 = tracker.create_issue("sec/appsec/plans", "Second", confidential=False)
    b1 = tracker.create_issue("sec/infra/plans", "Elsewhere")
    assert (a1.ref, a2.ref, b1.ref) == (
        "sec/appsec/plans#1",
        "sec/appsec/plans#2",
        "sec/infra/plans#1",
    )
    assert a1.confidential is True
    assert tracker.get_issue(a2.ref).confidential is False  # type: ignore[union-attr]
    got = tracker.get_issue("sec/appsec/plans#1")
    assert got is not None and got.title == "First" and got.state == "opened"
    assert got.created_at is not None and got.created_at.tzinfo is not None
    assert tracker.get_issue("sec/appsec/plans#3") is None
    assert tracker.get_issue("no/such/project#1") is None


def test_epics_are_numbered_per_group_and_confidential_by_default(tracker: LocalTracker) -> None:
    e1 = tracker.create_epic("sec", "Programme")
    e2 = tracker.create_epic("sec/appsec", "AppSec")
    e3 = tracker.create_epic("sec", "Another", labels=["x", "x", " y "])
    assert (e1.ref, e2.ref, e3.ref) == ("sec&1", "sec/appsec&1", "sec&2")
    assert e1.confidential is True
    assert e3.labels == ["x", "y"]
    assert [e.ref for e in tracker.list_epics("sec/appsec")] == ["sec/appsec&1"]
    assert [e.ref for e in tracker.list_epics("sec")] == ["sec&1", "sec&2", "sec/appsec&1"]
    assert tracker.get_epic("sec&9") is None


def test_group_and_project_paths_cannot_be_mixed_up(tracker: LocalTracker) -> None:
    tracker.create_issue("sec/appsec", "An issue makes sec/appsec a project")
    with pytest.raises(TrackerError, match="is a project, not a group"):
        tracker.create_epic("sec/appsec", "Epic")
    with pytest.raises(UsageError, match="has no group"):
        tracker.create_issue("lonely", "No group")
    with pytest.raises(UsageError, match="not a project path"):
        tracker.create_issue("sec/bad path", "Spaces")
    with pytest.raises(UsageError, match="not a group path"):
        tracker.create_epic("sec/..", "Dots")
    with pytest.raises(UsageError, match="empty"):
        tracker.create_issue("sec/appsec", "   ")


def test_milestones_resolve_in_the_nearest_ancestor_group(tracker: LocalTracker) -> None:
    from datetime import date

    tracker.create_milestone("sec", "Q1", due=date(2027, 3, 31))
    tracker.create_milestone("sec/appsec", "Q1", start=date(2027, 1, 1), due=date(2027, 2, 28))
    tracker.create_milestone("sec", "Q2")
    near = tracker.create_issue("sec/appsec/plans", "Near", milestone="Q1")
    far = tracker.create_issue("sec/appsec/plans", "Far", milestone="Q2")
    other = tracker.create_issue("sec/infra/plans", "Other team", milestone="Q1")
    assert (near.milestone, far.milestone, other.milestone) == ("Q1", "Q2", "Q1")
    # Only the appsec project sees the appsec Q1; infra falls back to the sec Q1.
    appsec_q1 = tracker.list_issues("sec/appsec", milestone="Q1")
    assert [i.ref for i in appsec_q1] == [near.ref]
    assert tracker.get_milestone("sec/appsec", "Q1").due == date(2027, 2, 28)  # type: ignore[union-attr]
    with pytest.raises(NotFoundError, match="milestone 'Q9' not found"):
        tracker.create_issue("sec/appsec/plans", "Nowhere", milestone="Q9")
    with pytest.raises(TrackerError, match="already exists"):
        tracker.create_milestone("sec", "Q1")
    with pytest.raises(UsageError, match="before it starts"):
        tracker.create_milestone("sec", "Backwards", start=date(2027, 2, 1), due=date(2027, 1, 1))
    updated = tracker.update_milestone(
        "sec", "Q2", MilestoneUpdate(due=date(2027, 6, 30), state_event="close")
    )
    assert (updated.due, updated.state) == (date(2027, 6, 30), "closed")
    assert [m.title for m in tracker.list_milestones("sec/appsec")] == ["Q1"]
    assert len(tracker.list_milestones()) == 3


def test_find_issues_matches_the_marker_exactly(tracker: LocalTracker) -> None:
    hit = tracker.create_issue("sec/appsec/plans", "Hit", description=f"Work.\n\n{MARKER}\n")
    tracker.create_issue("sec/appsec/plans", "Other item", description=MARKER.replace("inv", "x"))
    tracker.create_issue("sec/appsec/plans", "Upper", description=MARKER.upper())
    # "_" and "%" are LIKE wildcards: a marker containing them must not match by accident.
    tracker.create_issue("sec/appsec/plans", "Wild", description="<!-- secplan:plan=a-b -->")
    tracker.create_issue("sec/infra/plans", "Other project", description=MARKER)
    assert [i.ref for i in tracker.find_issues("sec/appsec/plans", MARKER)] == [hit.ref]
    assert tracker.find_issues("sec/appsec/plans", "<!-- secplan:plan=a_b -->") == []
    assert tracker.find_issues("sec/appsec/plans", "plan=a%b") == []
    assert len(tracker.find_issues("sec", MARKER)) == 2  # a group searches its projects
    assert tracker.find_issues("no/such", MARKER) == []
    epic = tracker.create_epic("sec", "Plan epic", description=f"Plan.\n{MARKER}")
    tracker.create_epic("sec", "Unrelated")
    assert [e.ref for e in tracker.find_epics("sec", MARKER)] == [epic.ref]
    assert tracker.find_epics("nowhere", MARKER) == []


def test_update_issue_changes_only_known_fields(tracker: LocalTracker) -> None:
    tracker.create_milestone("sec", "M1")
    epic = tracker.create_epic("sec", "Epic")
    issue = tracker.create_issue("sec/appsec/plans", "Old", labels=["a"])
    new = tracker.update_issue(
        issue.ref,
        IssueUpdate(
            title="New",
            description="Body",
            add_labels=["b", "c"],
            remove_labels=["a"],
            milestone="M1",
            assignees=["bob"],
            confidential=False,
            epic=epic.ref,
        ),
    )
    assert (new.title, new.description, new.labels, new.milestone) == (
        "New",
        "Body",
        ["b", "c"],
        "M1",
    )
    assert (new.assignees, new.confidential, new.epic) == (["bob"], False, "sec&1")
    assert tracker.get_issue(issue.ref) == new
    cleared = tracker.update_issue(issue.ref, IssueUpdate(milestone=None, epic=None))
    assert (cleared.milestone, cleared.epic) == (None, None)
    with pytest.raises(UsageError, match="close or reopen"):
        tracker.update_issue(issue.ref, IssueUpdate(state_event="closed"))
    with pytest.raises(NotFoundError, match="epic sec&7 not found"):
        tracker.update_issue(issue.ref, IssueUpdate(epic="sec&7"))
    with pytest.raises(NotFoundError) as err:
        tracker.update_issue("sec/appsec/plans#42", IssueUpdate(title="x"))
    assert err.value.hint and "secplan issue list" in err.value.hint
    with pytest.raises(UsageError, match="not an issue reference"):
        tracker.get_issue("sec&1")


def test_close_and_reopen_record_state_events_once(tracker: LocalTracker) -> None:
    issue = tracker.create_issue("sec/appsec/plans", "Work")
    other = tracker.create_issue("sec/appsec/plans", "Other")
    closed = tracker.close_issue(issue.ref, note="Done in MR !4")
    assert closed.state == "closed" and closed.closed_at is not None
    tracker.close_issue(issue.ref)  # already closed: no new event
    reopened = tracker.reopen_issue(issue.ref)
    assert reopened.state == "opened" and reopened.closed_at is None
    events = tracker.state_events([issue.ref])
    assert [e.state for e in events] == ["opened", "closed", "opened"]
    assert all(e.issue == issue.ref for e in events)
    assert events == sorted(events, key=lambda e: e.at)
    assert len(tracker.state_events()) == 4
    assert [e.issue for e in tracker.state_events([other.ref])] == [other.ref]
    assert [n.body for n in tracker.notes(issue.ref)] == ["Done in MR !4"]
    assert tracker.notes(issue.ref)[0].author == "alice"


def test_list_issues_filters_like_gitlab(tracker: LocalTracker) -> None:
    tracker.create_milestone("sec", "M1")
    epic = tracker.create_epic("sec", "Epic")
    a = tracker.create_issue("sec/a/p", "A", labels=["x", "y"], milestone="M1", epic=epic.ref)
    b = tracker.create_issue("sec/a/p", "B", labels=["x"])
    c = tracker.create_issue("sec/b/p", "C", labels=["y"])
    tracker.close_issue(b.ref)

    def refs(**kw: object) -> list[str]:
        return [i.ref for i in tracker.list_issues(**kw)]  # type: ignore[arg-type]

    assert refs() == [a.ref, c.ref]
    assert refs(state="closed") == [b.ref]
    assert refs(state="all") == [a.ref, b.ref, c.ref]
    assert refs(state="all", labels=["x"]) == [a.ref, b.ref]
    assert refs(state="all", labels=["x", "y"]) == [a.ref]
    assert refs(project="sec/b/p") == [c.ref]
    assert refs(project="sec/a", state="all") == [a.ref, b.ref]
    assert refs(epic=epic.ref) == [a.ref]
    assert refs(milestone="M1") == [a.ref]
    assert refs(epic="sec&99") == []
    with pytest.raises(UsageError, match="state must be"):
        tracker.list_issues(state="open")
    found = tracker.get_issues([a.ref, c.ref, "sec/a/p#99"])
    assert set(found) == {a.ref, c.ref} and found[c.ref].title == "C"


def test_promote_copies_the_issue_into_an_epic_and_closes_it(tracker: LocalTracker) -> None:
    tracker.create_epic("sec/appsec", "Existing epic")
    issue = tracker.create_issue(
        "sec/appsec/plans",
        "Rotate TLS certificates",
        description="Why and what.",
        labels=["security", "plan"],
        confidential=False,
    )
    tracker.add_note(issue.ref, "Please write a plan for this.", author="carol")
    epic = tracker.promote_issue(issue.ref)
    assert epic.ref == "sec/appsec&2"
    assert (epic.title, epic.description, epic.labels) == (
        "Rotate TLS certificates",
        "Why and what.",
        ["security", "plan"],
    )
    assert epic.confidential is False  # follows the issue
    epic_notes = tracker.notes(epic.ref)
    assert ("carol", "Please write a plan for this.") in [(n.author, n.body) for n in epic_notes]
    assert f"promoted from issue {issue.ref}" in [n.body for n in epic_notes]
    after = tracker.get_issue(issue.ref)
    assert after is not None and after.state == "closed"
    assert tracker.notes(issue.ref)[-1].body == "promoted to epic sec/appsec&2"
    assert [e.state for e in tracker.state_events([issue.ref])] == ["opened", "closed"]
    with pytest.raises(TrackerError, match="already promoted to sec/appsec&2") as err:
        tracker.promote_issue(issue.ref)
    assert err.value.hint == "Use the epic sec/appsec&2."
    with pytest.raises(TrackerError, match="cannot be reopened"):
        tracker.reopen_issue(issue.ref)
    assert len(tracker.list_epics()) == 2
    with pytest.raises(NotFoundError):
        tracker.promote_issue("sec/appsec/plans#9")


def test_update_epic_and_epic_notes(tracker: LocalTracker) -> None:
    parent = tracker.create_epic("sec", "Parent")
    child = tracker.create_epic("sec/appsec", "Child")
    updated = tracker.update_epic(
        child.ref, EpicUpdate(title="Renamed", add_labels=["b"], state_event="close")
    )
    tracker.set_epic_parent(child.ref, parent.ref)
    assert (updated.title, updated.labels, updated.state) == ("Renamed", ["b"], "closed")
    assert tracker.epic_parent(child.ref) == parent.ref
    with pytest.raises(TypeError):
        EpicUpdate(milestone="x")  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="its own parent"):
        tracker.set_epic_parent(parent.ref, parent.ref)
    tracker.add_note(parent.ref, "Kick-off on Monday.")
    assert [(n.author, n.body) for n in tracker.notes(parent.ref)] == [
        ("alice", "Kick-off on Monday.")
    ]
    with pytest.raises(UsageError, match="empty"):
        tracker.add_note(parent.ref, "  ")


def test_transaction_commits_all_or_nothing(tracker: LocalTracker) -> None:
    with pytest.raises(RuntimeError), tracker.transaction():
        tracker.create_issue("sec/appsec/plans", "Lost 1")
        tracker.create_issue("sec/appsec/plans", "Lost 2")
        raise RuntimeError("crash in the middle")
    assert tracker.list_issues(state="all") == []
    with tracker.transaction():
        first = tracker.create_issue("sec/appsec/plans", "Kept 1")
        second = tracker.create_issue("sec/appsec/plans", "Kept 2", epic=None)
        assert tracker.get_issue(second.ref) is not None  # visible inside the transaction
    assert (first.iid, second.iid) == (1, 2)
    assert len(tracker.list_issues()) == 2


def test_links_and_labels(tracker: LocalTracker) -> None:
    a = tracker.create_issue("sec/a/p", "A", labels=["threat-model"])
    b = tracker.create_issue("sec/a/p", "B", labels=["spike", "threat-model"])
    tracker.link_issues(a.ref, b.ref, "blocks")
    tracker.link_issues(a.ref, b.ref, "blocks")  # idempotent
    assert tracker.issue_links(a.ref) == [("blocks", b.ref)]
    assert tracker.issue_links(b.ref) == [("is_blocked_by", a.ref)]
    with pytest.raises(UsageError):
        tracker.link_issues(a.ref, a.ref)
    assert tracker.list_labels("sec/a") == ["spike", "threat-model"]
