"""The Tracker protocol's contract: what sync, the CLI and the web rely on from every backend.

Only protocol calls are made here; behaviour one backend has and another lacks (the embedded
tracker creating projects on first use) is tested with that backend alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from secplan.errors import NotFoundError, TrackerError
from secplan.tracker.base import (
    UNSET,
    EpicUpdate,
    IssueUpdate,
    MilestoneUpdate,
    Tracker,
)
from tests.tracker.contract.conftest import World

MARK = "<!-- secplan:plan=contract item=one -->"


def own(labels: list[str]) -> list[str]:
    """The labels a caller set, without a backend's own scoped bookkeeping labels
    (GitLab tags what secplan creates with ``secplan::managed``)."""
    return sorted(x for x in labels if not x.startswith("secplan::"))


def test_identity_capabilities_and_preflight(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    assert tracker.identity and tracker.identity == tracker.identity.strip()
    caps = tracker.capabilities
    assert caps.epics in ("local", "work_items", "rest", "tracking_issue")
    assert "relates_to" in caps.link_types
    assert tracker.check_access([world.project], [world.group]) == []


def test_create_and_read_an_issue(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    made = tracker.create_issue(
        world.project, "Inventory tokens", "Export them.\n\n" + MARK, labels=["ci", "tokens"]
    )
    assert made.ref == f"{world.project}#{made.iid}" and made.project == world.project
    assert made.confidential is True  # security work is confidential unless told otherwise
    assert made.state == "opened"
    got = tracker.get_issue(made.ref)
    assert got is not None
    assert (got.title, got.description, own(got.labels)) == (
        "Inventory tokens",
        "Export them.\n\n" + MARK,
        ["ci", "tokens"],
    )
    public = tracker.create_issue(world.project, "Public", confidential=False)
    assert tracker.get_issue(public.ref).confidential is False  # type: ignore[union-attr]


def test_missing_objects_read_as_none_and_writes_to_them_fail(
    backend: tuple[Tracker, World],
) -> None:
    tracker, world = backend
    assert tracker.get_issue(f"{world.project}#4242") is None
    assert tracker.get_epic(f"{world.group}&4242") is None
    assert tracker.get_milestone(world.group, "No such milestone") is None
    with pytest.raises(NotFoundError):
        tracker.update_issue(f"{world.project}#4242", IssueUpdate(title="x"))
    with pytest.raises(NotFoundError):
        tracker.close_issue(f"{world.project}#4242")


def test_get_issues_reads_many_and_leaves_out_the_missing(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    a = tracker.create_issue(world.project, "A")
    b = tracker.create_issue(world.other_project, "B")
    missing = f"{world.project}#{a.iid + 100}"
    elsewhere = "nobody/nowhere#1"
    found = tracker.get_issues([a.ref, b.ref, missing, elsewhere])
    assert set(found) == {a.ref, b.ref}
    assert found[b.ref].title == "B"
    assert tracker.get_issues([]) == {}


def test_find_issues_matches_the_marker_text_exactly(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    hit = tracker.create_issue(world.project, "Hit", f"Work.\n\n{MARK}")
    tracker.create_issue(world.project, "Near miss", MARK.replace("one", "one-more"))
    tracker.create_issue(world.project, "Upper", MARK.upper())
    tracker.create_issue(world.project, "Plain", "no marker at all")
    assert [i.ref for i in tracker.find_issues(world.project, MARK)] == [hit.ref]


def test_labels_change_by_delta_and_keep_what_others_added(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    issue = tracker.create_issue(world.project, "Labels", labels=["plan", "old"])
    # Someone adds a label between our read and our write: a delta keeps it.
    tracker.update_issue(issue.ref, IssueUpdate(add_labels=["workflow::doing"]))
    after = tracker.update_issue(issue.ref, IssueUpdate(add_labels=["new"], remove_labels=["old"]))
    assert own(after.labels) == ["new", "plan", "workflow::doing"]
    same = tracker.update_issue(issue.ref, IssueUpdate(add_labels=["new"]))
    assert own(same.labels) == own(after.labels)


def test_update_sets_only_what_it_names(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    issue = tracker.create_issue(world.project, "Title", "Body", labels=["x"])
    update = IssueUpdate(title="New title")
    assert update.changed() == {"title": "New title"} and update.description is UNSET
    after = tracker.update_issue(issue.ref, update)
    assert (after.title, after.description, own(after.labels)) == ("New title", "Body", ["x"])
    assert tracker.update_issue(issue.ref, IssueUpdate(confidential=False)).confidential is False
    assert not IssueUpdate()  # an empty update is falsy: callers skip the call


def test_milestones_and_issues_in_them(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    ms = tracker.create_milestone(world.group, "Contract MVP", due=date(2027, 3, 1))
    assert (ms.group, ms.title, ms.due) == (world.group, "Contract MVP", date(2027, 3, 1))
    with pytest.raises(TrackerError):
        tracker.create_milestone(world.group, "Contract MVP")
    moved = tracker.update_milestone(
        world.group, "Contract MVP", MilestoneUpdate(due=date(2027, 4, 1), description="Later")
    )
    assert (moved.due, moved.description) == (date(2027, 4, 1), "Later")
    assert [m.title for m in tracker.list_milestones(world.group)] == ["Contract MVP"]
    issue = tracker.create_issue(world.project, "In MVP", milestone="Contract MVP")
    assert issue.milestone == "Contract MVP"
    assert [i.ref for i in tracker.list_issues(world.project, milestone="Contract MVP")] == [
        issue.ref
    ]
    cleared = tracker.update_issue(issue.ref, IssueUpdate(milestone=None))
    assert cleared.milestone is None


def test_epics_hold_issues(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    epic = tracker.create_epic(world.group, "Plan epic", f"The plan.\n{MARK}", labels=["plan"])
    assert epic.confidential is True
    assert tracker.get_epic(epic.ref) == epic
    assert [e.ref for e in tracker.find_epics(world.group, MARK)] == [epic.ref]
    renamed = tracker.update_epic(epic.ref, EpicUpdate(title="Renamed", add_labels=["more"]))
    assert renamed.title == "Renamed" and own(renamed.labels) == ["more", "plan"]
    issue = tracker.create_issue(world.project, "Child", epic=epic.ref)
    assert issue.epic == epic.ref
    assert [i.ref for i in tracker.list_issues(world.project, epic=epic.ref)] == [issue.ref]
    other = tracker.create_issue(world.project, "Later child")
    assert tracker.update_issue(other.ref, IssueUpdate(epic=epic.ref)).epic == epic.ref
    assert tracker.update_issue(other.ref, IssueUpdate(epic=None)).epic is None
    assert epic.ref in {e.ref for e in tracker.list_epics(world.group)}


def test_close_reopen_notes_and_state_events(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    issue = tracker.create_issue(world.project, "Lifecycle")
    closed = tracker.close_issue(issue.ref, note="Done: ticked in the plan.")
    assert closed.state == "closed"
    assert any("ticked in the plan" in n.body for n in tracker.notes(issue.ref))
    assert tracker.reopen_issue(issue.ref).state == "opened"
    tracker.add_note(issue.ref, "Reopened: unticked.")
    assert [n.body for n in tracker.notes(issue.ref)][-1] == "Reopened: unticked."
    states = [e.state for e in tracker.state_events([issue.ref])]
    assert states == ["opened", "closed", "opened"]
    assert tracker.update_issue(issue.ref, IssueUpdate(state_event="close")).state == "closed"


def test_listing_streams_and_filters(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    a = tracker.create_issue(world.project, "A", labels=["x", "y"])
    b = tracker.create_issue(world.project, "B", labels=["x"])
    tracker.close_issue(b.ref)
    stream = tracker.iter_issues(world.project, state="all")
    assert isinstance(stream, Iterator)
    assert sorted(i.ref for i in stream) == sorted([a.ref, b.ref])  # order is the backend's
    assert [i.ref for i in tracker.list_issues(world.project)] == [a.ref]  # opened by default
    assert [i.ref for i in tracker.list_issues(world.project, state="closed")] == [b.ref]
    both = tracker.list_issues(world.project, state="all", labels=["x", "y"])
    assert [i.ref for i in both] == [a.ref]


def test_links_and_promotion(backend: tuple[Tracker, World]) -> None:
    tracker, world = backend
    a = tracker.create_issue(world.project, "Blocked work")
    b = tracker.create_issue(world.project, "Blocker")
    kind = "blocks" if "blocks" in tracker.capabilities.link_types else "relates_to"
    tracker.link_issues(b.ref, a.ref, kind)
    tracker.link_issues(b.ref, a.ref, kind)  # idempotent
    source = tracker.create_issue(
        world.project, "Rotate CI runner secrets", "We need a plan.", labels=["ci"]
    )
    epic = tracker.promote_issue(source.ref)
    assert (epic.title, epic.group) == ("Rotate CI runner secrets", world.group)
    assert "We need a plan." in epic.description
    after = tracker.get_issue(source.ref)
    assert after is not None
    if tracker.capabilities.epics != "tracking_issue":  # there the issue itself is the epic
        assert after.state == "closed"
    # Promoting again never makes a second epic: refused, or the same epic.
    try:
        again = tracker.promote_issue(source.ref)
    except TrackerError:
        return
    assert again.ref == epic.ref
