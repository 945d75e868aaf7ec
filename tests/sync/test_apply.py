"""Apply against every backend: the embedded tracker (SQLite file, PostgreSQL) and GitLab."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from secplan.config import load_config
from secplan.errors import LockedError
from secplan.store.models import SyncState
from secplan.sync.apply import apply_plans, compute_plan
from secplan.sync.desired import parse_marker
from secplan.sync.lock import apply_lock
from secplan.tracker.base import IssueUpdate
from tests.sync.conftest import CountingTracker, apply, edit, load, plan_labels

TOKEN_ITEMS = {
    "inventory-long-lived-personal-access-tokens",
    "expiry-spike",
    "enforce-a-90-day-maximum-token-lifetime",
    "rotate-service-account-tokens-through-vault",
}
SCANNER_ITEMS = {"enable-push-protection-on-the-pilot-projects", "write-the-bypass-runbook"}


def marked(tracker: CountingTracker, project: str) -> dict[tuple[str, str], list[str]]:
    """(plan, item) -> refs of the issues carrying that marker."""
    out: dict[tuple[str, str], list[str]] = {}
    for issue in tracker.inner.list_issues(project, state="all"):
        key = parse_marker(issue.description)
        assert key is not None, issue.ref
        out.setdefault(key, []).append(issue.ref)
    return out


def test_plan_then_apply_creates_exactly_the_plan(handbook_dir: Path, tracker: CountingTracker):
    plans = load(handbook_dir)
    planned = compute_plan(tracker, tracker.state, plans, load_config(handbook_dir), all_plans=True)
    assert tracker.writes == []  # planning never writes
    creates = Counter((c.kind, c.plan) for c in planned.changes if c.action == "create")
    assert creates == {
        ("milestone", "token-hardening"): 2,
        ("issue", "token-hardening"): 4,
        ("milestone", "scanner-rollout"): 1,
        ("issue", "scanner-rollout"): 2,
    }

    result = apply(handbook_dir, tracker)
    assert result.ok
    assert Counter(tracker.names()) == {"create_milestone": 3, "create_issue": 6}
    tokens = marked(tracker, "appsec/planning")
    assert {item for (_plan, item) in tokens} == TOKEN_ITEMS
    assert all(len(refs) == 1 for refs in tokens.values())
    assert {item for (_p, item) in marked(tracker, "appsec/scanners")} == SCANNER_ITEMS

    issue = tracker.inner.get_issue(tokens[("token-hardening", "expiry-spike")][0])
    assert issue is not None
    assert issue.title == "Spike: can we expire tokens without breaking CI?"
    assert plan_labels(issue.labels) == ["security-planning", "tokens", "spike"]
    assert issue.milestone == "Audit"
    assert issue.confidential is True
    assert "token-hardening.md#audit" in issue.description
    inventory = tracker.inner.get_issue(
        tokens[("token-hardening", "inventory-long-lived-personal-access-tokens")][0]
    )
    assert inventory is not None and inventory.assignees == ["rin.sato"]
    audit = tracker.inner.get_milestone("appsec", "Audit")
    assert audit is not None and str(audit.due) == "2027-03-19"


def test_second_apply_writes_nothing(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker, create_epic=True)
    assert tracker.writes
    again = apply(handbook_dir, tracker, create_epic=True)
    assert tracker.writes == []
    assert again.writes == 0
    assert {c.action for c in again.plan.changes} == {"unchanged"}


def test_editing_one_item_updates_exactly_one_issue(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker)
    edit(
        handbook_dir / "token-hardening.md",
        "count the pipelines that break.",
        "count the pipelines and jobs that break.",
    )
    result = apply(handbook_dir, tracker)
    assert tracker.names() == ["update_issue"]
    ref = tracker.writes[0][1][0]
    assert set(tracker.writes[0][1][1].changed()) == {"description"}
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and "pipelines and jobs that break" in issue.description
    assert [c.item for c in result.done] == ["expiry-spike"]
    assert apply(handbook_dir, tracker).writes == 0


def test_labels_added_in_the_tracker_survive_and_dropped_plan_labels_go(
    handbook_dir: Path, tracker: CountingTracker
):
    apply(handbook_dir, tracker)
    key = ("token-hardening", "enforce-a-90-day-maximum-token-lifetime")
    ref = marked(tracker, "appsec/planning")[key][0]
    tracker.inner.update_issue(ref, IssueUpdate(add_labels=["doing"]))
    edit(handbook_dir / "token-hardening.md", "lifetime %Enforce ~policy", "lifetime %Enforce")
    apply(handbook_dir, tracker)
    assert tracker.names() == ["update_issue"]
    issue = tracker.inner.get_issue(ref)
    assert issue is not None
    assert sorted(plan_labels(issue.labels)) == ["doing", "security-planning", "tokens"]


def test_implementing_stops_updates_and_reports_drift(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker)
    plan_file = handbook_dir / "token-hardening.md"
    edit(plan_file, "status: ready", "status: implementing")
    edit(plan_file, "rotates them weekly", "rotates them daily")
    edit(
        plan_file,
        "- [ ] Enforce a 90-day",
        "- [ ] Alert on tokens older than 80 days %Enforce\n"
        "  Send the owner a mail ten days before the maximum lifetime ends.\n"
        "- [ ] Enforce a 90-day",
    )
    for _run in range(2):
        result = apply(handbook_dir, tracker)
        drift = [c for c in result.plan.changes if c.action == "drift"]
        assert [c.item for c in drift] == ["rotate-service-account-tokens-through-vault"]
        assert [f.name for f in drift[0].fields] == ["description"]
        assert result.ok
    ref = drift[0].ref
    assert ref is not None
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and "rotates them weekly" in issue.description
    # Only the new, uncovered item got an issue (in the first of the two runs).
    created = [i.title for i in tracker.inner.list_issues("appsec/planning", state="all")]
    assert created.count("Alert on tokens older than 80 days") == 1
    assert len(created) == 5


def test_removed_items_are_orphans_not_closed(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker)
    plan_file = handbook_dir / "scanner-rollout.md"
    edit(
        plan_file,
        "- [ ] Write the bypass runbook %Pilot\n"
        "  Document how an engineer bypasses a false positive and how security reviews the"
        " bypass.\n",
        "",
    )
    result = apply(handbook_dir, tracker)
    assert tracker.writes == []
    orphans = [c for c in result.plan.changes if c.action == "orphan"]
    assert [(c.plan, c.item) for c in orphans] == [("scanner-rollout", "write-the-bypass-runbook")]
    ref = orphans[0].ref
    assert ref is not None
    issue = tracker.inner.get_issue(ref)
    assert issue is not None and issue.state == "opened"


def test_removed_plan_is_reported_as_orphans(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker)
    (handbook_dir / "scanner-rollout.md").unlink()
    # The removed plan's project is no longer searched unless another plan uses it, so move the
    # remaining plan's project there to prove removed plans show up as orphans.
    edit(
        handbook_dir / "token-hardening.md",
        "status: ready",
        "status: ready\ntracker: appsec/scanners",
    )
    result = apply(handbook_dir, tracker)
    gone = [c for c in result.plan.changes if c.plan == "scanner-rollout"]
    assert {c.action for c in gone} == {"orphan"}
    assert {c.item for c in gone} == SCANNER_ITEMS
    assert not any(name == "close_issue" for name in tracker.names())


def test_lost_sync_state_finds_issues_by_marker(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker, create_epic=True)
    before = marked(tracker, "appsec/planning")
    with tracker.state.store.session() as s:
        s.execute(sa.delete(SyncState))
    result = apply(handbook_dir, tracker, create_epic=True)
    assert tracker.writes == []
    assert result.ok
    assert marked(tracker, "appsec/planning") == before
    assert len(tracker.inner.list_epics("appsec")) == 2
    with tracker.state.store.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(SyncState)) == 2 + 3 + 6


def test_create_epic_links_issues(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker)  # first without an epic
    result = apply(handbook_dir, tracker, create_epic=True)
    assert Counter(tracker.names()) == {"create_epic": 2, "update_issue": 6}
    epic = result.epics["token-hardening"]
    issues = tracker.inner.list_issues("appsec/planning", state="all")
    assert {i.epic for i in issues} == {epic}
    assert apply(handbook_dir, tracker, create_epic=True).writes == 0


def test_apply_refuses_while_another_holds_the_lock(handbook_dir: Path, tracker: CountingTracker):
    with apply_lock(tracker.state.store):
        with pytest.raises(LockedError) as err:
            apply(handbook_dir, tracker)
        assert "another secplan apply is running" in err.value.message
        assert err.value.hint
        assert tracker.writes == []
    assert apply(handbook_dir, tracker).ok


def test_lock_of_a_killed_process_is_released(handbook_dir: Path, tracker: CountingTracker):
    import signal
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from secplan.store import open_store; "
            "from secplan.sync.lock import apply_lock; "
            "store = open_store(Path('.'), sys.argv[1]); lock = apply_lock(store); "
            "lock.__enter__(); print('held', flush=True); time.sleep(60)",
            tracker.state.store.engine.url.render_as_string(hide_password=False),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError):
            apply(handbook_dir, tracker)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert apply(handbook_dir, tracker).ok


def test_plan_names_no_project(handbook_dir: Path, tracker: CountingTracker):
    (handbook_dir / "secplan.toml").write_text('group = "appsec"\n', encoding="utf-8")
    result = apply_plans(
        tracker, tracker.state, load(handbook_dir), load_config(handbook_dir), all_plans=True
    )
    assert not result.ok
    errors = {d.plan: d.errors for d in result.plan.diffs}
    assert "names no tracker project" in errors["token-hardening"][0]
    assert errors["scanner-rollout"] == []  # it names its own project and is applied
    assert Counter(tracker.names()) == {"create_milestone": 1, "create_issue": 2}


def test_plan_title_and_milestone_dates_are_pushed(handbook_dir: Path, tracker: CountingTracker):
    apply(handbook_dir, tracker, create_epic=True)
    plan_file = handbook_dir / "token-hardening.md"
    edit(plan_file, "title: API token hardening", "title: API and deploy token hardening")
    edit(plan_file, "    due: 2027-04-30", "    due: 2027-05-14")
    result = apply(handbook_dir, tracker, create_epic=True)
    # The epic's title, the milestone's due date, and the plan link text in the four issues.
    assert Counter(tracker.names()) == {"update_epic": 1, "update_milestone": 1, "update_issue": 4}
    assert {
        tuple(args[1].changed()) for name, args, _kw in tracker.writes if name == "update_issue"
    } == {("description",)}
    epic = tracker.inner.get_epic(result.epics["token-hardening"])
    assert epic is not None and epic.title == "API and deploy token hardening"
    enforce = tracker.inner.get_milestone("appsec", "Enforce")
    assert enforce is not None and str(enforce.due) == "2027-05-14"
    assert apply(handbook_dir, tracker, create_epic=True).writes == 0
