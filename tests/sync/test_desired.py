"""Desired state from constructed plans (no tracker involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secplan.config import Config
from secplan.errors import UsageError
from secplan.model import Milestone, Plan, Section, WorkItem
from secplan.sync.desired import (
    desired_for_plan,
    epic_marker,
    issue_marker,
    parse_marker,
)


def make_plan(**kw: object) -> Plan:
    plan = Plan(id="team/tokens", path=Path("/h/team/tokens.md"), rel_path="team/tokens.md")
    plan.title = "Token hardening"
    plan.sections = [Section("Audit", 2, "audit", 5)]
    plan.milestones = [Milestone("Audit")]
    plan.items = [
        WorkItem(
            id="inventory",
            title="Inventory tokens",
            line=7,
            description="Export every token older than 90 days.",
            acceptance=["the export covers every group"],
            milestone="Audit",
            labels=["inventory", "tokens"],
            assignees=["rin"],
            section="audit",
        ),
        WorkItem(id="spike", title="Spike: expire?", line=9, spike=True, section="audit"),
    ]
    for k, v in kw.items():
        setattr(plan, k, v)
    return plan


def test_markers_round_trip_and_do_not_collide():
    assert issue_marker("team/tokens", "inventory") == (
        "<!-- secplan:plan=team/tokens item=inventory -->"
    )
    assert parse_marker("text\n" + issue_marker("a b", "x")) == ("a b", "x")
    assert parse_marker(epic_marker("team/tokens")) == ("team/tokens", "@epic")
    assert parse_marker("no marker here") is None
    # Plan "a" and plan "a-b" must never read as each other's markers.
    assert parse_marker(issue_marker("a-b", "x")) == ("a-b", "x")


def test_issue_fields_from_item_plan_and_config():
    cfg = Config(root=Path("/h"), tracker="sec/plans", labels=["security-planning", "tokens"])
    dp = desired_for_plan(make_plan(labels=["tokens", "q3"], confidential=False), cfg)
    assert dp.project == "sec/plans"
    assert dp.group == "sec"
    first, spike = dp.issues
    assert first.labels == ["security-planning", "tokens", "q3", "inventory"]
    assert spike.labels == ["security-planning", "tokens", "q3", "spike"]
    assert first.milestone == "Audit" and first.assignees == ["rin"]
    assert first.confidential is False
    desc = first.description
    assert desc.startswith("Export every token older than 90 days.")
    assert "- [ ] the export covers every group" in desc
    assert "[Token hardening § Audit](team/tokens.md#audit)" in desc
    assert desc.rstrip().endswith(issue_marker("team/tokens", "inventory"))
    assert [m.title for m in dp.milestones] == ["Audit"]
    assert dp.epic.title == "Token hardening" and dp.epic.ref is None


def test_acceptance_already_in_the_description_is_not_repeated():
    plan = make_plan()
    plan.items[0].description += "\nAcceptance: the export covers every group"
    dp = desired_for_plan(plan, Config(root=Path("/h"), tracker="sec/plans"))
    assert dp.issues[0].description.count("the export covers every group") == 1


def test_permalink_uses_base_url_when_configured():
    cfg = Config(root=Path("/h"), tracker="sec/plans", base_url="https://hb.example/plans/")
    dp = desired_for_plan(make_plan(), cfg)
    assert "(https://hb.example/plans/team/tokens#audit)" in dp.issues[0].description
    assert "(https://hb.example/plans/team/tokens)" in dp.epic.description


def test_project_and_group_precedence():
    cfg = Config(root=Path("/h"), tracker="sec/plans", group="security")
    dp = desired_for_plan(make_plan(tracker="infra/hardening", epic="platform/sub&4"), cfg)
    assert dp.project == "infra/hardening"
    assert dp.group == "platform/sub"  # the epic's group wins
    assert desired_for_plan(make_plan(), cfg).group == "security"


def test_plan_without_project_is_a_clear_error():
    plan = make_plan(front_matter_lines={"title": 2})
    with pytest.raises(UsageError) as err:
        desired_for_plan(plan, Config(root=Path("/h")))
    assert "names no tracker project" in err.value.message
    assert err.value.path == "team/tokens.md"
    assert err.value.hint and "tracker:" in err.value.hint
