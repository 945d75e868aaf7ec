"""The example handbook checks as documented: the ready plan is clean, the review plan has gaps."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from secplan.handbook import load_handbook
from secplan.handbook.catalog import catalog_status
from tests.conftest import EXAMPLE_HANDBOOK, run_cli


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example") / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


def _findings(*args: str) -> tuple[int, dict[str, set[str]]]:
    result = run_cli("check", *args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    by_plan: dict[str, set[str]] = defaultdict(set)
    for f in json.loads(result.stdout):
        by_plan[f["plan"]].add(f["code"])
    return result.returncode, by_plan


def test_check_runs_and_only_the_review_plan_has_findings(example: Path) -> None:
    code, by_plan = _findings(str(example))
    assert code == 0  # warnings only: the review plan's gaps are warnings at its status
    assert set(by_plan) == {"vulnerability-sla-dashboard"}
    assert {"SP401", "SP304", "SP305", "SP306", "SP307"} <= by_plan["vulnerability-sla-dashboard"]


def test_ready_plan_is_clean_when_judged_as_ready(example: Path) -> None:
    code, by_plan = _findings(str(example), "--require", "ready")
    assert code == 1  # the review plan is not done
    assert "ci-runner-secrets-rotation" not in by_plan
    assert "admin-mfa" not in by_plan


def test_the_plans_cover_the_format(example: Path) -> None:
    handbook = load_handbook(example)
    plans = handbook.by_id()
    assert {p.status for p in plans.values()} >= {"ready", "review", "implementing", "superseded"}
    ready = plans["ci-runner-secrets-rotation"]
    assert ready.epic and ready.requirements_mode == "checklist"
    assert all(m.due for m in ready.milestones)
    assert any(i.spike and i.timebox and i.has_question for i in ready.items)
    assert any(i.generated for i in ready.items) and ready.requirements
    assert "rotation-window" in ready.anchor_ids()  # a manual kramdown anchor
    implementing = plans["admin-mfa"]
    assert implementing.rel_path == "admin-mfa/index.md"
    assert implementing.ssot and implementing.source
    assert plans["bastion-host-hardening"].superseded_by == "admin-mfa"
    review = plans["vulnerability-sla-dashboard"]
    assert review.epic is None and review.markers
    # Plans link to each other's sections, and check finds every target (no SP203 above).
    assert any("#" in link.url and ".md" in link.url for link in review.links)
    assert not catalog_status(handbook).stale


def _within(project: str, group: str) -> bool:
    return project == group or project.startswith(group + "/")


def test_epics_sit_in_a_group_that_holds_their_issues(example: Path) -> None:
    """GitLab adds an issue to an epic only from a project of the epic's group or a subgroup."""
    from secplan.refs import parse_epic_ref, parse_issue_ref

    handbook = load_handbook(example)
    checked = 0
    for plan in handbook.plans:
        epic = parse_epic_ref(plan.epic or "")
        if epic is None:
            continue
        projects = {plan.tracker or handbook.config.tracker or ""}
        for ref in [plan.source, *(item.ref for item in plan.items)]:
            issue = parse_issue_ref(ref or "")
            if issue is not None:
                projects.add(issue.path)
        for project in projects:
            assert _within(project, epic.path), (plan.id, project, epic.path)
            checked += 1
    assert checked >= 2
