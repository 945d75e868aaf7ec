"""Coverage and status on constructed plans and tracker state."""

from __future__ import annotations

from secplan.model import Marker, Requirement, Section, WorkItem
from secplan.sync.actual import Actual
from secplan.sync.coverage import plan_coverage
from secplan.sync.desired import issue_marker
from secplan.sync.status import status_from_coverage
from secplan.tracker.base import TrackedIssue
from tests.sync.test_desired import make_plan


def issue(iid: int, item: str, state: str = "opened") -> TrackedIssue:
    return TrackedIssue(
        ref=f"sec/plans#{iid}",
        project="sec/plans",
        iid=iid,
        title=item,
        description=issue_marker("team/tokens", item),
        state=state,  # type: ignore[arg-type]
    )


def test_items_sections_markers_and_requirements():
    plan = make_plan(requirements_mode="issues")
    plan.sections.append(Section("Rules", 2, "rules", 20, end_line=40))
    plan.sections[0].end_line = 19
    plan.requirements = [
        Requirement("rules-r1", "must", "Tokens MUST expire", 22, section="rules"),
        Requirement("rules-r2", "should", "Owners SHOULD rotate", 23, section="rules"),
    ]
    plan.items.append(
        WorkItem("rules-r1", "Tokens MUST expire", 22, section="rules", generated=True)
    )
    plan.items.append(
        WorkItem("rules-r2", "Owners SHOULD rotate", 23, section="rules", generated=True)
    )
    plan.markers = [Marker("TODO", 12, context="TODO: who owns this?")]
    actual = Actual()
    for i in (issue(1, "inventory", "closed"), issue(2, "rules-r1")):
        actual.add_issue(i)

    pc = plan_coverage(plan, actual)
    states = {i.id: (i.state, i.ref) for i in pc.items}
    assert states == {
        "inventory": ("closed", "sec/plans#1"),
        "spike": (None, None),
        "rules-r1": ("opened", "sec/plans#2"),
        "rules-r2": (None, None),
    }
    assert pc.totals == {"items": 4, "open": 1, "closed": 1, "uncovered": 2, "candidates": 2}
    assert [(c.kind, c.line, c.section) for c in pc.candidates] == [
        ("marker", 12, "audit"),
        ("requirement", 23, "rules"),
    ]
    by_section = {s.anchor: s for s in pc.sections}
    assert [i.id for i in by_section["rules"].items] == ["rules-r1", "rules-r2"]
    assert [c.text for c in by_section["audit"].candidates] == ["TODO: who owns this?"]

    ps = status_from_coverage(pc, plan)
    # Progress counts every item: done = issue closed, or ticked when no issue covers it.
    assert (ps.progress.closed, ps.progress.total, ps.progress.percent) == (1, 4, 25)
    assert {t: (p.closed, p.total) for t, p in ps.milestones.items()} == {
        "Audit": (1, 1),
        "": (0, 3),
    }
    assert ps.uncovered == 2
