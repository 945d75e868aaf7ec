"""Conflicts between plans: a shared milestone declared differently, and an epic named in one
plan's front matter that secplan made for another plan (real tracker, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from secplan.config import load_config
from secplan.sync.apply import apply_plans, compute_plan
from secplan.sync.desired import epic_marker
from secplan.tracker.base import EpicUpdate
from tests.sync.conftest import CountingTracker, apply, edit, load

SCANNER_AUDIT = """milestones:
  - title: Audit
    start: 2027-06-01
    due: 2027-06-30
  - title: Pilot
"""


def _scanner_declares_audit(root: Path, start: str = "2027-06-01", due: str = "2027-06-30") -> None:
    """scanner-rollout declares token-hardening's milestone "Audit" (same group appsec)."""
    text = SCANNER_AUDIT.replace("2027-06-01", start).replace("2027-06-30", due)
    edit(root / "scanner-rollout.md", "milestones:\n  - title: Pilot\n", text)


def _apply_only(root: Path, tracker: CountingTracker, plan_id: str, *, context: bool = True):
    """Apply one plan, with the rest of the handbook as context (as ``secplan apply PLAN``)."""
    plans = load(root)
    tracker.writes.clear()
    mine = [p for p in plans if p.id == plan_id]
    others = [p for p in plans if p.id != plan_id] if context else []
    return apply_plans(tracker, tracker.state, mine, load_config(root), context=others)


def test_disagreeing_milestone_is_created_once_from_the_first_plan_and_never_flips(
    handbook_dir: Path, tracker: CountingTracker
):
    _scanner_declares_audit(handbook_dir)
    first = apply(handbook_dir, tracker)
    assert not first.ok
    [conflict] = first.conflicts
    assert 'milestone "Audit" of group appsec' in conflict
    assert "scanner-rollout (scanner-rollout.md:6)" in conflict
    assert "token-hardening (token-hardening.md:" in conflict
    assert "start 2027-06-01 vs 2027-03-01" in conflict
    assert [n for n in tracker.names() if "milestone" in n].count("create_milestone") == 3
    audit = tracker.inner.get_milestone("appsec", "Audit")
    # scanner-rollout comes first by id, so its definition wins.
    assert audit is not None and (audit.start, audit.due) == (date(2027, 6, 1), date(2027, 6, 30))

    again = apply(handbook_dir, tracker)
    assert tracker.writes == []
    assert not again.ok and again.conflicts == [conflict]
    notes = {
        c.plan: c.note for c in again.plan.changes if c.kind == "milestone" and c.title == "Audit"
    }
    assert set(notes) == {"scanner-rollout", "token-hardening"}
    assert all(
        n.startswith("conflict: plans scanner-rollout, token-hardening") for n in notes.values()
    )
    plans = load(handbook_dir)
    assert (
        compute_plan(
            tracker, tracker.state, plans, load_config(handbook_dir), all_plans=True
        ).pending()
        == []
    )


def test_applying_one_plan_alone_never_undoes_the_other(
    handbook_dir: Path, tracker: CountingTracker
):
    _scanner_declares_audit(handbook_dir)
    apply(handbook_dir, tracker)
    alone = _apply_only(handbook_dir, tracker, "token-hardening")
    assert tracker.writes == [] and alone.conflicts
    audit = tracker.inner.get_milestone("appsec", "Audit")
    assert audit is not None and audit.start == date(2027, 6, 1)
    # Without the other plans the disagreement is invisible and the milestone would flip.
    blind = _apply_only(handbook_dir, tracker, "token-hardening", context=False)
    assert blind.ok and tracker.names() == ["update_milestone"]


def test_one_plan_alone_on_a_fresh_tracker_creates_the_first_plans_milestone(
    handbook_dir: Path, tracker: CountingTracker
):
    _scanner_declares_audit(handbook_dir)
    _apply_only(handbook_dir, tracker, "token-hardening")
    audit = tracker.inner.get_milestone("appsec", "Audit")
    assert audit is not None and audit.start == date(2027, 6, 1)
    apply(handbook_dir, tracker)
    assert "update_milestone" not in tracker.names()


def test_agreeing_plans_share_the_milestone_and_resolving_a_conflict_updates_it(
    handbook_dir: Path, tracker: CountingTracker
):
    _scanner_declares_audit(handbook_dir)
    apply(handbook_dir, tracker)
    # scanner-rollout now says what token-hardening says: the conflict is gone and the
    # milestone takes the agreed dates, once.
    edit(handbook_dir / "scanner-rollout.md", "    start: 2027-06-01\n", "    start: 2027-03-01\n")
    edit(handbook_dir / "scanner-rollout.md", "    due: 2027-06-30\n", "    due: 2027-03-19\n")
    resolved = apply(handbook_dir, tracker)
    assert resolved.ok and resolved.conflicts == []
    assert tracker.names() == ["update_milestone"]
    audit = tracker.inner.get_milestone("appsec", "Audit")
    assert audit is not None and (audit.start, audit.due) == (date(2027, 3, 1), date(2027, 3, 19))
    assert apply(handbook_dir, tracker).writes == 0


def test_a_frozen_plan_does_not_dispute_a_milestone(handbook_dir: Path, tracker: CountingTracker):
    _scanner_declares_audit(handbook_dir)
    edit(handbook_dir / "scanner-rollout.md", "status: draft", "status: abandoned")
    result = apply(handbook_dir, tracker)
    assert result.ok and result.conflicts == []
    audit = tracker.inner.get_milestone("appsec", "Audit")
    assert audit is not None and audit.start == date(2027, 3, 1)


def _token_names_epic(root: Path, ref: str) -> None:
    edit(root / "token-hardening.md", "owners: [rin.sato]\n", f"owners: [rin.sato]\nepic: {ref}\n")


def test_epic_made_for_another_plan_is_not_this_plans(handbook_dir: Path, tracker: CountingTracker):
    # token-hardening names appsec&1 before it exists; --create-epic then makes appsec&1 for
    # scanner-rollout (it comes first and names no epic).
    _token_names_epic(handbook_dir, "appsec&1")
    first = apply(handbook_dir, tracker, create_epic=True)
    assert first.epics == {"scanner-rollout": "appsec&1"}
    assert tracker.names().count("create_epic") == 1

    again = apply(handbook_dir, tracker, create_epic=True)
    assert tracker.writes == []
    assert not again.ok
    [conflict] = again.conflicts
    assert "epic appsec&1 named in the front matter" in conflict
    assert "made for plan scanner-rollout" in conflict
    assert "token-hardening" not in again.epics
    token_issues = [
        i
        for i in tracker.inner.list_issues("appsec/planning", state="all")
        if "plan=token-hardening " in i.description
    ]
    assert len(token_issues) == 4 and {i.epic for i in token_issues} == {None}
    diff = next(d for d in again.plan.diffs if d.plan == "token-hardening")
    assert diff.epic_ref is None
    assert not any(c.action == "create" for c in diff.changes)


def test_issues_linked_to_an_epic_that_turns_out_to_be_another_plans_are_unlinked(
    handbook_dir: Path, tracker: CountingTracker
):
    # An epic made by a person is fine: the plan's issues are linked to it.
    epic = tracker.inner.create_epic("appsec", "Token work")
    _token_names_epic(handbook_dir, epic.ref)
    assert apply(handbook_dir, tracker).ok
    linked = [i for i in tracker.inner.list_issues("appsec/planning") if i.epic == epic.ref]
    assert len(linked) == 4
    # It carries another plan's epic marker (as an older secplan linked by number): unlink.
    tracker.inner.update_epic(epic.ref, EpicUpdate(description=epic_marker("scanner-rollout")))
    result = apply(handbook_dir, tracker)
    assert not result.ok and result.conflicts
    # scanner-rollout takes the epic as its own (its marker) and links its two issues;
    # token-hardening's four issues leave it.
    assert sorted(tracker.names()) == ["update_epic"] + ["update_issue"] * 6
    unlinked = [a[1].changed() for n, a, _kw in tracker.writes if n == "update_issue"]
    unlinked = [u for u in unlinked if "epic" in u and u["epic"] is None]
    assert unlinked == [{"epic": None}] * 4
    assert all(i.epic is None for i in tracker.inner.list_issues("appsec/planning"))
    scanner = tracker.inner.list_issues("appsec/scanners")
    assert len(scanner) == 2 and {i.epic for i in scanner} == {epic.ref}
    assert apply(handbook_dir, tracker).writes == 0


def test_epic_with_this_plans_marker_stays_the_plans(handbook_dir: Path, tracker: CountingTracker):
    first = apply(handbook_dir, tracker, create_epic=True)
    ref = first.epics["token-hardening"]
    _token_names_epic(handbook_dir, ref)  # as apply --write-back writes it
    again = apply(handbook_dir, tracker, create_epic=True)
    assert again.ok and again.conflicts == [] and tracker.writes == []
    assert again.epics["token-hardening"] == ref


def test_agreeing_plans_without_a_description_write_the_milestone_once(
    handbook_dir: Path, tracker: CountingTracker
):
    # Same dates; only scanner-rollout describes it: no conflict, one milestone with the text.
    _scanner_declares_audit(handbook_dir, start="2027-03-01", due="2027-03-19")
    edit(
        handbook_dir / "scanner-rollout.md",
        "    due: 2027-03-19\n",
        "    due: 2027-03-19\n    description: Every token listed with its owner.\n",
    )
    first = apply(handbook_dir, tracker)
    assert first.ok and first.conflicts == []
    assert tracker.names().count("create_milestone") == 3
    audit = tracker.inner.get_milestone("appsec", "Audit")
    assert audit is not None and audit.description == "Every token listed with its owner."
    assert apply(handbook_dir, tracker).writes == 0
    edit(handbook_dir / "token-hardening.md", "    due: 2027-03-19\n", "    due: 2027-03-26\n")
    edit(handbook_dir / "scanner-rollout.md", "    due: 2027-03-19\n", "    due: 2027-03-26\n")
    apply(handbook_dir, tracker)
    assert tracker.names() == ["update_milestone"]  # once, not once per plan
    assert apply(handbook_dir, tracker).writes == 0
