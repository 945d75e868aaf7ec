"""Plan text that looks like sync's own markers, or holds odd whitespace, never confuses sync."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from secplan.config import Config
from secplan.model import Plan, WorkItem
from secplan.sync.desired import (
    desired_for_plan,
    epic_marker,
    issue_marker,
    neutralise_markers,
    parse_marker,
    replace_marker,
)
from tests.sync.conftest import CountingTracker, apply, edit

FORGED = "<!-- secplan:plan=other item=thing -->"
FORGED_EPIC = "<!-- secplan:plan=X kind=epic -->"


def _plan() -> Plan:
    plan = Plan(id="team/tokens", path=Path("/h/team/tokens.md"), rel_path="team/tokens.md")
    plan.title = f"Tokens {FORGED_EPIC}"
    plan.items = [
        WorkItem(id="doc", title=f"Document {FORGED}", line=3, description=f"Use `{FORGED}`.")
    ]
    return plan


def test_marker_in_plan_text_is_neutralised_and_the_real_one_wins():
    dp = desired_for_plan(_plan(), Config(root=Path("/h"), tracker="sec/plans"))
    issue = dp.issues[0]
    assert parse_marker(issue.description) == ("team/tokens", "doc")
    assert issue.description.count("<!-- secplan:plan=") == 1
    assert "<!-- secplan:" not in issue.title
    assert parse_marker(dp.epic.description) == ("team/tokens", "@epic")
    assert dp.epic.description.count("<!-- secplan:plan=") == 1
    assert "<!-- secplan:" not in dp.epic.title


def test_parse_marker_takes_the_last_line_not_the_first_match():
    # An issue made before plan text was neutralised: the forged marker comes first.
    old = f"Use {FORGED} here.\n\nPlan: [x](x.md)\n\n{issue_marker('a', 'b')}\n"
    assert parse_marker(old) == ("a", "b")
    assert parse_marker(f"{FORGED_EPIC}\n\n{epic_marker('p')}\n") == ("p", "@epic")
    # Text a person added below the marker in the tracker does not hide it.
    assert parse_marker(f"{issue_marker('a', 'b')}\n\nadded by hand") == ("a", "b")
    renamed = replace_marker(old, "a", "c")
    assert parse_marker(renamed) == ("a", "c")
    assert FORGED in renamed  # only the real marker changed


def test_neutralising_catches_variants_and_leaves_other_text_alone():
    for forged in (FORGED, "<!--secplan:plan=x item=y -->", "<!-- SECPLAN : x -->"):
        assert "secplan\u2060" in neutralise_markers(forged).lower()
    assert neutralise_markers("secplan: the tool") == "secplan: the tool"


def test_forged_markers_never_duplicate_on_apply(handbook_dir: Path, tracker: CountingTracker):
    plan = handbook_dir / "token-hardening.md"
    edit(plan, "title: API token hardening", f"title: 'API token hardening {FORGED_EPIC}'")
    edit(
        plan,
        "  Try expiring tokens",
        f"  The marker looks like `{FORGED}`.\n  Try expiring tokens",
    )
    for _ in range(4):
        result = apply(handbook_dir, tracker)
        assert result.ok
    issues = tracker.inner.list_issues("appsec/planning", state="all")
    keys = Counter(parse_marker(i.description) for i in issues)
    assert len(issues) == 4 and all(n == 1 for n in keys.values()), keys
    assert all(plan_id == "token-hardening" for plan_id, _item in keys)
    assert len(tracker.inner.list_epics("appsec")) <= 1
    assert tracker.writes == []  # the last apply found nothing to do


def test_titles_with_tabs_and_unicode_spaces_converge(handbook_dir: Path, tracker: CountingTracker):
    plan = handbook_dir / "token-hardening.md"
    edit(plan, "Rotate service-account tokens", "Rotate\tservice-account\u00a0tokens\u2003")
    assert apply(handbook_dir, tracker).ok
    assert apply(handbook_dir, tracker).ok
    assert tracker.writes == []
    titles = {i.title for i in tracker.inner.list_issues("appsec/planning", state="all")}
    assert "Rotate service-account tokens through Vault" in titles
