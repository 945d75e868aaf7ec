"""The diff on constructed desired and actual state (no tracker involved)."""

from __future__ import annotations

from pathlib import Path

from secplan.config import Config
from secplan.sync.actual import Actual
from secplan.sync.desired import content_hash, desired_for_plan, issue_marker
from secplan.sync.diff import diff_plans
from secplan.sync.fields import merge_managed
from secplan.sync.state import SyncRecord
from secplan.tracker.base import TrackedIssue, TrackedMilestone
from tests.sync.test_desired import make_plan

CFG = Config(root=Path("/h"), tracker="sec/plans")


def tracked(dp_issue, iid: int, **changes: object) -> TrackedIssue:
    issue = TrackedIssue(
        ref=f"sec/plans#{iid}",
        project="sec/plans",
        iid=iid,
        title=dp_issue.title,
        description=dp_issue.description,
        labels=list(dp_issue.labels),
        milestone=dp_issue.milestone,
        assignees=list(dp_issue.assignees),
        confidential=dp_issue.confidential,
    )
    for k, v in changes.items():
        setattr(issue, k, v)
    return issue


def actual_with(*issues: TrackedIssue, records: list[SyncRecord] = ()) -> Actual:
    a = Actual()
    a.milestones[("sec", "Audit")] = TrackedMilestone(group="sec", title="Audit")
    for i in issues:
        a.add_issue(i)
    for r in records:
        a.records[r.key] = r
    return a


def actions(diff) -> list[tuple[str, str, str | None]]:
    return [(c.action, c.kind, c.item) for c in diff.changes]


def test_nothing_in_the_tracker_means_create():
    dp = desired_for_plan(make_plan(), CFG)
    (d,) = diff_plans([dp], Actual())
    assert actions(d) == [
        ("create", "milestone", "Audit"),
        ("create", "issue", "inventory"),
        ("create", "issue", "spike"),
    ]


def test_matching_issues_are_unchanged_and_edits_are_updates():
    dp = desired_for_plan(make_plan(), CFG)
    inv, spike = dp.issues
    a = actual_with(tracked(inv, 1), tracked(spike, 2, title="Old title", labels=["x"]))
    (d,) = diff_plans([dp], a)
    assert actions(d) == [
        ("unchanged", "milestone", "Audit"),
        ("unchanged", "issue", "inventory"),
        ("update", "issue", "spike"),
    ]
    upd = d.changes[2]
    assert upd.ref == "sec/plans#2"
    assert upd.updates["title"] == "Spike: expire?"
    # A label added in the tracker is kept; the plan's label is added (as a delta, which the
    # tracker applies atomically).
    assert upd.updates["add_labels"] == ["spike"]
    assert "remove_labels" not in upd.updates
    assert [f.new for f in upd.fields if f.name == "labels"] == [["x", "spike"]]


def test_labels_pushed_before_and_no_longer_wanted_are_removed():
    assert merge_managed(["a", "doing", "old"], ["a", "new"], ["a", "old"]) == [
        "a",
        "doing",
        "new",
    ]


def test_tracker_is_truth_reports_drift_instead_of_updating():
    plan = make_plan(status="implementing")
    dp = desired_for_plan(plan, CFG)
    inv = dp.issues[0]
    old_fields = {**inv.fields(), "title": "Inventory old tokens"}
    rec = SyncRecord(
        "team/tokens", "issue", "inventory", "sec/plans#1", content_hash(old_fields), old_fields
    )
    a = actual_with(tracked(inv, 1, title="Renamed by the team"), records=[rec])
    (d,) = diff_plans([dp], a)
    got = {c.item: c for c in d.changes if c.kind == "issue"}
    assert got["inventory"].action == "drift"
    assert [f.name for f in got["inventory"].fields] == ["title"]
    assert got["inventory"].updates == {}
    assert got["spike"].action == "create"  # uncovered items are still created


def test_removed_items_and_duplicates_are_orphans():
    dp = desired_for_plan(make_plan(), CFG)
    inv, spike = dp.issues
    gone = tracked(inv, 3, description="x\n" + issue_marker("team/tokens", "dropped"))
    dup = tracked(inv, 4)
    a = actual_with(tracked(inv, 1), tracked(spike, 2), gone, dup)
    (d,) = diff_plans([dp], a)
    orphans = [(c.ref, c.note) for c in d.changes if c.action == "orphan"]
    assert orphans == [
        ("sec/plans#4", "duplicate of sec/plans#1"),
        ("sec/plans#3", "its item is no longer in the plan"),
    ]


def test_item_covered_by_someone_elses_issue_is_left_alone():
    plan = make_plan()
    plan.items[0].ref = "sec/plans#9"
    dp = desired_for_plan(plan, CFG)
    theirs = TrackedIssue(ref="sec/plans#9", project="sec/plans", iid=9, title="Theirs")
    (d,) = diff_plans([dp], actual_with(theirs))
    inv = next(c for c in d.changes if c.item == "inventory")
    assert (inv.action, inv.ref, inv.updates) == ("unchanged", "sec/plans#9", {})


def test_milestone_shared_by_two_plans_is_created_once():
    one = desired_for_plan(make_plan(), CFG)
    other = make_plan(id="team/other", rel_path="team/other.md")
    two = desired_for_plan(other, CFG)
    d1, d2 = diff_plans([one, two], Actual())
    assert ("create", "milestone", "Audit") in actions(d1)
    assert ("unchanged", "milestone", "Audit") in actions(d2)


def test_unknown_milestone_is_dropped_with_a_warning():
    plan = make_plan()
    plan.items[1].milestone = "Nowhere"
    (d,) = diff_plans([desired_for_plan(plan, CFG)], Actual())
    assert any("Nowhere" in w for w in d.warnings)
    spike = next(c for c in d.changes if c.item == "spike")
    assert spike.desired is not None and spike.desired.milestone is None  # type: ignore[union-attr]


def test_a_record_never_hands_another_items_issue_to_an_item():
    dp = desired_for_plan(make_plan(), CFG)
    spike = dp.issues[1]
    # The record of "inventory" points at #2, which now carries the marker of "spike".
    rec = SyncRecord("team/tokens", "issue", "inventory", "sec/plans#2", "x", {})
    (d,) = diff_plans([dp], actual_with(tracked(spike, 2), records=[rec]))
    got = {c.item: (c.action, c.ref) for c in d.changes if c.kind == "issue"}
    assert got == {"inventory": ("create", None), "spike": ("unchanged", "sec/plans#2")}
