"""A renamed item keeps its issue (by ref, or by an unambiguous match), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from secplan.config import load_config
from secplan.sync.apply import ApplyResult, compute_plan
from secplan.sync.desired import parse_marker
from secplan.sync.rename import plan_section
from secplan.sync.render import change_line, done_line
from tests.sync.conftest import CountingTracker, apply, edit, load

PLAN = "token-hardening.md"
PLAN_ID = "token-hardening"
ENFORCE = "enforce-a-90-day-maximum-token-lifetime"
ROTATE = "rotate-service-account-tokens-through-vault"
ENFORCE_LINE = "- [ ] Enforce a 90-day maximum token lifetime %Enforce ~policy"
ROTATE_LINE = "- [ ] Rotate service-account tokens through Vault %Enforce"


def first_apply(handbook_dir: Path, tracker: CountingTracker) -> ApplyResult:
    result = apply(handbook_dir, tracker)
    assert result.ok
    return result


def record_items(tracker: CountingTracker) -> dict[str, str]:
    """item -> ref of the issue records of the token plan."""
    records = tracker.state.load([PLAN_ID])
    return {item: rec.ref for (_p, kind, item), rec in records.items() if kind == "issue"}


def marker_of(tracker: CountingTracker, ref: str) -> tuple[str, str] | None:
    issue = tracker.inner.get_issue(ref)
    assert issue is not None
    return parse_marker(issue.description)


def test_rename_with_ref_adopts_the_issue(handbook_dir: Path, tracker: CountingTracker):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ENFORCE)]
    # A new title and a new text: only the ref ties the item to its issue.
    edit(handbook_dir / PLAN, ENFORCE_LINE, f"- [ ] Cap token lifetimes %Enforce ~policy {ref}")
    edit(handbook_dir / PLAN, "Turn on the instance setting", "Switch on the admin setting")

    planned = compute_plan(
        tracker, tracker.state, load(handbook_dir), load_config(handbook_dir), all_plans=True
    )
    [change] = [c for c in planned.changes if c.item == "cap-token-lifetimes"]
    assert (change.action, change.ref, change.renamed_from) == ("update", ref, ENFORCE)
    assert "(renamed from " + ENFORCE + ")" in change_line(change)
    assert not [c for c in planned.changes if c.action in ("create", "orphan")]

    result = apply(handbook_dir, tracker)
    assert result.ok
    assert "create_issue" not in tracker.names()
    assert marker_of(tracker, ref) == (PLAN_ID, "cap-token-lifetimes")
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.title == "Cap token lifetimes"
    assert "Switch on the admin setting" in issue.description
    records = record_items(tracker)
    assert records["cap-token-lifetimes"] == ref and ENFORCE not in records
    assert any(done_line(c).endswith(f"(renamed from {ENFORCE})") for c in result.done)

    again = apply(handbook_dir, tracker)
    assert tracker.writes == [] and again.writes == 0
    assert {c.action for c in again.plan.changes} == {"unchanged"}


def test_rename_without_ref_in_one_section_adopts(handbook_dir: Path, tracker: CountingTracker):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ROTATE)]
    edit(
        handbook_dir / PLAN,
        ROTATE_LINE,
        "- [ ] Rotate service-account tokens through HashiCorp Vault %Enforce",
    )
    new_id = "rotate-service-account-tokens-through-hashicorp-vault"

    planned = compute_plan(
        tracker, tracker.state, load(handbook_dir), load_config(handbook_dir), all_plans=True
    )
    [change] = [c for c in planned.changes if c.item == new_id]
    assert (change.action, change.ref, change.renamed_from) == ("update", ref, ROTATE)
    line = change_line(change)
    assert line.startswith(f"  ~ update issue {ref} {new_id} ")
    assert line.endswith(f"(title, description) (renamed from {ROTATE})")
    assert change.to_json()["note"] == f"renamed from {ROTATE}"
    assert not [c for c in planned.changes if c.action in ("create", "orphan")]

    apply(handbook_dir, tracker)
    assert "create_issue" not in tracker.names()
    assert marker_of(tracker, ref) == (PLAN_ID, new_id)
    assert record_items(tracker)[new_id] == ref and ROTATE not in record_items(tracker)
    again = apply(handbook_dir, tracker)
    assert tracker.writes == [] and again.writes == 0


def test_a_new_title_with_the_same_text_is_adopted(handbook_dir: Path, tracker: CountingTracker):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ROTATE)]
    # Titles too far apart for the similarity ratio; the unchanged text decides.
    edit(
        handbook_dir / PLAN, ROTATE_LINE, "- [ ] Weekly Vault rotation for robot accounts %Enforce"
    )

    apply(handbook_dir, tracker)
    assert "create_issue" not in tracker.names()
    assert marker_of(tracker, ref) == (PLAN_ID, "weekly-vault-rotation-for-robot-accounts")


def test_two_renames_in_one_section_stay_create_and_orphan(
    handbook_dir: Path, tracker: CountingTracker
):
    refs = first_apply(handbook_dir, tracker).issues
    edit(
        handbook_dir / PLAN, ENFORCE_LINE, "- [ ] Enforce a 60-day maximum token lifetime %Enforce"
    )
    edit(handbook_dir / PLAN, ROTATE_LINE, "- [ ] Rotate service-account tokens via Vault %Enforce")

    planned = compute_plan(
        tracker, tracker.state, load(handbook_dir), load_config(handbook_dir), all_plans=True
    )
    creates = sorted(c.item or "" for c in planned.changes if c.action == "create")
    orphans = sorted(c.ref or "" for c in planned.changes if c.action == "orphan")
    assert creates == [
        "enforce-a-60-day-maximum-token-lifetime",
        "rotate-service-account-tokens-via-vault",
    ]
    assert orphans == sorted([refs[(PLAN_ID, ENFORCE)], refs[(PLAN_ID, ROTATE)]])
    assert not [c for c in planned.changes if c.renamed_from]

    apply(handbook_dir, tracker)
    assert tracker.names().count("create_issue") == 2
    assert marker_of(tracker, refs[(PLAN_ID, ENFORCE)]) == (PLAN_ID, ENFORCE)


def test_a_new_item_unlike_the_removed_one_is_not_adopted(
    handbook_dir: Path, tracker: CountingTracker
):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ROTATE)]
    path = handbook_dir / PLAN
    text = path.read_text(encoding="utf-8")
    start = text.index(ROTATE_LINE)
    path.write_text(text[:start] + "- [ ] Publish the token policy page %Enforce\n", "utf-8")

    planned = compute_plan(
        tracker, tracker.state, load(handbook_dir), load_config(handbook_dir), all_plans=True
    )
    assert [(c.action, c.item) for c in planned.changes if c.action in ("create", "orphan")] == [
        ("create", "publish-the-token-policy-page"),
        ("orphan", ROTATE),
    ]
    assert marker_of(tracker, ref) == (PLAN_ID, ROTATE)


def test_an_issue_of_another_plan_is_never_adopted(handbook_dir: Path, tracker: CountingTracker):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ENFORCE)]
    scanner = handbook_dir / "scanner-rollout.md"
    edit(scanner, "- [ ] Write the bypass runbook %Pilot", f"- [ ] Write the runbook %Pilot {ref}")

    result = apply(handbook_dir, tracker)
    # Another plan's issue is never credited: a conflict the user resolves, apply exits 1.
    assert not result.ok
    [change] = [c for c in result.plan.changes if c.item == "write-the-runbook"]
    assert (change.action, change.ref) == ("unchanged", ref)
    assert change.note == "conflict: not credited"
    [conflict] = [c for c in result.conflicts if "write-the-runbook" in c]
    assert f"names {ref}, which is the issue of item '{ENFORCE}' of plan {PLAN_ID}" in conflict
    assert "scanner-rollout.md:" in conflict
    assert marker_of(tracker, ref) == (PLAN_ID, ENFORCE)
    assert all(w[1][:1] != (ref,) for w in tracker.writes)


def test_an_issue_of_another_current_item_is_not_taken(
    handbook_dir: Path, tracker: CountingTracker
):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ENFORCE)]
    edit(handbook_dir / PLAN, ROTATE_LINE, f"{ROTATE_LINE} {ref}")

    result = apply(handbook_dir, tracker)
    [change] = [c for c in result.plan.changes if c.item == ROTATE]
    assert change.action == "unchanged"
    assert change.note == f"conflict: the issue of item {ENFORCE}; not credited"
    assert not result.ok and any(f"issue of item '{ENFORCE}'" in c for c in result.conflicts)
    assert marker_of(tracker, ref) == (PLAN_ID, ENFORCE)
    assert tracker.writes == []


def test_from_implementing_on_only_the_marker_follows(handbook_dir: Path, tracker: CountingTracker):
    ref = first_apply(handbook_dir, tracker).issues[(PLAN_ID, ENFORCE)]
    before = tracker.inner.get_issue(ref)
    assert before is not None
    edit(handbook_dir / PLAN, "status: ready", "status: implementing")
    edit(handbook_dir / PLAN, ENFORCE_LINE, f"- [ ] Cap token lifetimes %Enforce ~policy {ref}")

    result = apply(handbook_dir, tracker)
    assert result.ok
    assert [w[0] for w in tracker.writes] == ["update_issue"]
    after = tracker.inner.get_issue(ref)
    assert after is not None
    assert after.title == before.title  # the tracker is the source of truth for the text
    assert after.description == before.description.replace(
        f"item={ENFORCE} -->", "item=cap-token-lifetimes -->"
    )
    assert record_items(tracker)["cap-token-lifetimes"] == ref

    again = apply(handbook_dir, tracker)
    assert tracker.writes == []
    [change] = [c for c in again.plan.changes if c.item == "cap-token-lifetimes"]
    assert change.action == "drift"
    assert "title" in {f.name for f in change.fields}


def test_plan_section_reads_the_anchor_of_the_plan_link():
    text = "Body\n\nPlan: [Tokens § Audit [x]](https://h/plans/tokens#audit)\n\n<!-- m -->\n"
    assert plan_section(text) == "audit"
    assert plan_section("Plan: [Tokens](tokens.md)\n") == ""
    assert plan_section("edited by people, no plan link") is None
