"""Ticked items: a tick closes the item's issue and an untick reopens it while the plan is the
source of truth; later the mismatch is drift. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from secplan.config import load_config
from secplan.sync.apply import compute_plan
from secplan.sync.render import render_plan_text
from tests.sync.conftest import CountingTracker, apply, edit, load

PLAN = "token-hardening.md"
ITEM = "enforce-a-90-day-maximum-token-lifetime"
UNTICKED = "- [ ] Enforce a 90-day maximum token lifetime"
TICKED = "- [x] Enforce a 90-day maximum token lifetime"


def issue_of(result_issues: dict[tuple[str, str], str]) -> str:
    return result_issues[("token-hardening", ITEM)]


def plan_text(root: Path, tracker: CountingTracker) -> list[str]:
    planned = compute_plan(tracker, tracker.state, load(root), load_config(root), all_plans=True)
    return list(render_plan_text(planned))


def test_tick_closes_and_untick_reopens(handbook_dir: Path, tracker: CountingTracker):
    ref = issue_of(apply(handbook_dir, tracker).issues)
    edit(handbook_dir / PLAN, UNTICKED, TICKED)

    lines = plan_text(handbook_dir, tracker)
    assert (
        f'  ~ update issue {ref} {ITEM} "Enforce a 90-day maximum token lifetime" (state)' in lines
    )
    assert "      state: opened -> closed" in lines

    result = apply(handbook_dir, tracker)
    assert result.ok
    assert tracker.names() == ["close_issue"]
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "closed"
    assert [n.body for n in tracker.inner.notes(ref)] == ["closed: ticked in plan token-hardening"]

    assert apply(handbook_dir, tracker).writes == 0  # idempotent
    assert tracker.writes == []

    edit(handbook_dir / PLAN, TICKED, UNTICKED)
    result = apply(handbook_dir, tracker)
    assert result.ok
    assert tracker.names() == ["reopen_issue", "add_note"]
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "opened"
    assert tracker.inner.notes(ref)[-1].body == "reopened: unticked in plan token-hardening"
    assert apply(handbook_dir, tracker).writes == 0


def test_tick_together_with_an_edit(handbook_dir: Path, tracker: CountingTracker):
    ref = issue_of(apply(handbook_dir, tracker).issues)
    edit(handbook_dir / PLAN, UNTICKED, TICKED)
    edit(handbook_dir / PLAN, "Turn on the instance setting", "Switch on the instance setting")
    result = apply(handbook_dir, tracker)
    assert result.ok
    assert tracker.names() == ["update_issue", "close_issue"]
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "closed"
    assert "Switch on the instance setting" in issue.description


def test_an_issue_people_closed_is_not_reopened(handbook_dir: Path, tracker: CountingTracker):
    ref = issue_of(apply(handbook_dir, tracker).issues)
    tracker.inner.close_issue(ref, note="done by hand")
    assert apply(handbook_dir, tracker).writes == 0
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "closed"


def test_from_implementing_on_a_tick_is_drift(handbook_dir: Path, tracker: CountingTracker):
    ref = issue_of(apply(handbook_dir, tracker).issues)
    edit(handbook_dir / PLAN, "status: ready", "status: implementing")
    edit(handbook_dir / PLAN, UNTICKED, TICKED)

    lines = plan_text(handbook_dir, tracker)
    drift = [line for line in lines if line.startswith(f"  ! drift issue {ref}")]
    assert drift == [
        f'  ! drift issue {ref} {ITEM} "Enforce a 90-day maximum token lifetime" (state) — '
        "ticked in the plan, open in the tracker; the tracker is the source of truth"
    ]

    result = apply(handbook_dir, tracker)
    assert result.ok
    assert tracker.writes == []
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "opened"


def test_from_implementing_on_an_untick_is_drift(handbook_dir: Path, tracker: CountingTracker):
    ref = issue_of(apply(handbook_dir, tracker).issues)
    edit(handbook_dir / PLAN, UNTICKED, TICKED)
    apply(handbook_dir, tracker)  # closes it
    edit(handbook_dir / PLAN, "status: ready", "status: implementing")
    edit(handbook_dir / PLAN, TICKED, UNTICKED)
    lines = plan_text(handbook_dir, tracker)
    assert any(
        line.startswith(f"  ! drift issue {ref}") and "unticked in the plan" in line
        for line in lines
    )
    apply(handbook_dir, tracker)
    assert tracker.writes == []
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "closed"


def test_a_ticked_item_without_an_issue_gets_none(handbook_dir: Path, tracker: CountingTracker):
    edit(handbook_dir / PLAN, UNTICKED, TICKED)
    lines = plan_text(handbook_dir, tracker)
    assert (
        '  = done issue in appsec/planning enforce-a-90-day-maximum-token-lifetime "Enforce a '
        '90-day maximum token lifetime" — done in the plan; no issue needed'
    ) in lines
    result = apply(handbook_dir, tracker)
    assert result.ok
    assert ("token-hardening", ITEM) not in result.issues
    titles = {i.title for i in tracker.inner.list_issues(state="all")}
    assert "Enforce a 90-day maximum token lifetime" not in titles
    assert len(titles) == 5
