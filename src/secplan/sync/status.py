"""Status: per plan, its status, epic and progress (done/total work items, by milestone).

Progress has one definition, shared by ``secplan status``, the web catalog and the plan page: of
a plan's work items, those done — their issue is closed, or, when no issue covers them, they are
ticked in the plan. An item whose written ref is in conflict is not done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from secplan.config import Config
from secplan.model import Plan
from secplan.sync.coverage import PlanCoverage, PlanHead, coverage
from secplan.sync.state import SyncState
from secplan.tracker.base import Tracker


@dataclass
class Progress:
    """Done and total work items (``closed`` counts the done ones)."""

    closed: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        """Whole percent done (0 when there are no items)."""
        return round(100 * self.closed / self.total) if self.total else 0

    def to_json(self) -> dict[str, int]:
        """``{closed, total, percent}``."""
        return {"closed": self.closed, "total": self.total, "percent": self.percent}


@dataclass
class PlanStatus(PlanHead):
    """Status line of one plan."""

    progress: Progress = field(default_factory=Progress)
    milestones: dict[str, Progress] = field(default_factory=dict)  # "" = no milestone
    uncovered: int = 0
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of ``secplan status --format json``."""
        return {
            **self.head_json(),
            "progress": self.progress.to_json(),
            "milestones": [
                {"milestone": title or None, **p.to_json()} for title, p in self.milestones.items()
            ],
            "uncovered": self.uncovered,
            "problems": self.problems,
        }


def status_from_coverage(pc: PlanCoverage, plan: Plan) -> PlanStatus:
    """Progress of one plan from its coverage (see the module docstring)."""
    ps = PlanStatus(pc.plan, pc.title, pc.status, pc.path, pc.epic, problems=list(pc.problems))
    for m in plan.milestones:
        ps.milestones[m.title] = Progress()
    for item in pc.items:
        if item.state is None and not item.done:
            ps.uncovered += 1
        bucket = ps.milestones.setdefault(item.milestone or "", Progress())
        for p in (ps.progress, bucket):
            p.total += 1
            p.closed += item.complete
    return ps


def progress_of(pc: PlanCoverage) -> Progress:
    """The plan's progress alone (what the catalog shows)."""
    return Progress(closed=sum(1 for i in pc.items if i.complete), total=len(pc.items))


def status(
    tracker: Tracker, state: SyncState, plans: Sequence[Plan], config: Config
) -> list[PlanStatus]:
    """Status of every plan in ``plans``."""
    by_id = {p.id: p for p in plans}
    return [
        status_from_coverage(pc, by_id[pc.plan]) for pc in coverage(tracker, state, plans, config)
    ]
