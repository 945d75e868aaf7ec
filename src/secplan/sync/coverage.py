"""Coverage: which work items have issues, which do not, and work not yet written as items.

The list a person needs for "create issues for any remaining work": per plan and per section,
items with an issue (open or closed), uncovered items, TODO/TBD markers, and requirements no item
covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from secplan.config import Config
from secplan.errors import SecplanError
from secplan.model import Plan, Requirement, Section
from secplan.refs import parse_issue_ref
from secplan.sync.actual import Actual, fetch_actual
from secplan.sync.desired import DesiredPlan, desired_for_plan
from secplan.sync.lifecycle import may_create, truth_mode
from secplan.sync.match import ItemKey, PlanMatch, match_plan, plan_epic
from secplan.sync.state import SyncState
from secplan.tracker.base import Tracker


@dataclass
class ItemCoverage:
    """One work item and the issue covering it, if any."""

    id: str
    title: str
    line: int
    section: str | None
    milestone: str | None
    ref: str | None
    state: str | None  # opened | closed | None (no issue)
    done: bool = False
    generated: bool = False
    conflict: bool = False  # the item names an issue that cannot be credited

    @property
    def complete(self) -> bool:
        """Done, as progress counts it: its issue is closed, or (no issue) it is ticked."""
        if self.state is not None:
            return self.state == "closed"
        return self.done and not self.conflict


@dataclass
class Candidate:
    """Work not yet written as an item: a TODO/TBD marker or an uncovered requirement."""

    kind: str  # marker | requirement
    text: str
    line: int
    section: str | None
    level: str | None = None  # requirement level


@dataclass
class SectionCoverage:
    """Coverage within one section."""

    anchor: str | None
    title: str
    line: int
    items: list[ItemCoverage] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class PlanHead:
    """What every per-plan report starts with."""

    plan: str
    title: str
    status: str
    path: str
    epic: str | None

    def head_json(self) -> dict[str, Any]:
        """``{plan, title, status, path, epic}``."""
        return {
            "plan": self.plan,
            "title": self.title,
            "status": self.status,
            "path": self.path,
            "epic": self.epic,
        }


@dataclass
class PlanCoverage(PlanHead):
    """Coverage of one plan."""

    items: list[ItemCoverage] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    sections: list[SectionCoverage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """Counts: items, open, closed, uncovered, candidates."""
        return {
            "items": len(self.items),
            "open": sum(1 for i in self.items if i.state == "opened"),
            "closed": sum(1 for i in self.items if i.state == "closed"),
            "uncovered": sum(1 for i in self.items if i.state is None and not i.done),
            "candidates": len(self.candidates),
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of ``secplan coverage --format json``."""
        return {
            **self.head_json(),
            "totals": self.totals,
            "items": [asdict(i) for i in self.items],
            "candidates": [asdict(c) for c in self.candidates],
            "sections": [
                {
                    "anchor": s.anchor,
                    "title": s.title,
                    "line": s.line,
                    "items": [i.id for i in s.items],
                    "uncovered": [i.id for i in s.items if i.state is None and not i.done],
                    "candidates": [asdict(c) for c in s.candidates],
                }
                for s in self.sections
            ],
            "problems": self.problems,
        }


def section_at(plan: Plan, line: int) -> Section | None:
    """The innermost section containing ``line``."""
    best: Section | None = None
    for s in plan.sections:
        inside = s.line <= line and (s.end_line == 0 or line <= s.end_line)
        if inside and (best is None or s.level >= best.level):
            best = s
    return best


def _requirement_covered(req: Requirement, plan: Plan, covered_items: set[str]) -> bool:
    for item in plan.items:
        if item.id not in covered_items:
            continue
        if item.id == req.id or req.id in item.id or req.text in item.description:
            return True
        if plan.requirements_mode == "checklist" and item.generated and item.section == req.section:
            return True
    return False


def plan_coverage(
    plan: Plan, actual: Actual, epic: str | None = None, desired: DesiredPlan | None = None
) -> PlanCoverage:
    """Coverage of one plan against already-fetched tracker state (``desired``: the plan as
    sync sees it, for renamed items; None for a plan sync cannot place)."""
    pc = PlanCoverage(
        plan=plan.id,
        title=plan.title or plan.id,
        status=plan.status,
        path=plan.rel_path,
        epic=epic or plan.epic,
    )
    pm = plan_match(plan, actual, desired)
    covered: set[str] = set()
    for item in plan.items:
        match = pm.items[item.id]
        issue = match.credited
        if issue is not None:
            covered.add(item.id)
        if match.conflict:
            pc.problems.append(match.conflict)
        pc.items.append(
            ItemCoverage(
                id=item.id,
                title=item.title,
                line=item.line,
                section=item.section,
                milestone=item.milestone,
                ref=issue.ref if issue else item.ref,
                state=issue.state if issue else None,
                done=item.done,
                generated=item.generated,
                conflict=bool(match.conflict),
            )
        )
    for m in plan.markers:
        sec = section_at(plan, m.line)
        pc.candidates.append(
            Candidate("marker", m.context or m.text, m.line, sec.anchor if sec else None)
        )
    for req in plan.requirements:
        if not _requirement_covered(req, plan, covered):
            pc.candidates.append(
                Candidate("requirement", req.text, req.line, req.section, req.level)
            )
    pc.candidates.sort(key=lambda c: c.line)
    by_anchor: dict[str | None, SectionCoverage] = {}
    for s in plan.sections:
        by_anchor.setdefault(s.anchor, SectionCoverage(s.anchor, s.title, s.line))
    for ic in pc.items:
        by_anchor.setdefault(ic.section, SectionCoverage(ic.section, "", 0)).items.append(ic)
    for c in pc.candidates:
        by_anchor.setdefault(c.section, SectionCoverage(c.section, "", 0)).candidates.append(c)
    pc.sections = [s for s in by_anchor.values() if s.items or s.candidates]
    return pc


def _fetch(
    tracker: Tracker, state: SyncState, plans: Sequence[Plan], config: Config
) -> tuple[Actual, dict[str, DesiredPlan], dict[str, str]]:
    """Tracker state for ``plans``, their desired state, and the problem that keeps a plan from
    being synced."""
    desired: dict[str, DesiredPlan] = {}
    problems: dict[str, str] = {}
    for plan in plans:
        try:
            desired[plan.id] = desired_for_plan(plan, config)
        except SecplanError as exc:
            problems[plan.id] = exc.message
    actual = fetch_actual(tracker, desired.values(), state)
    # Plans without a project can still name issues on their items.
    named = {
        item.ref
        for plan in plans
        if plan.id not in desired
        for item in plan.items
        if item.ref and item.ref not in actual.issues_by_ref and parse_issue_ref(item.ref)
    }
    if named:
        for issue in tracker.get_issues(sorted(named)).values():
            actual.add_issue(issue)
    return actual, desired, problems


def plan_match(plan: Plan, actual: Actual, desired: DesiredPlan | None = None) -> PlanMatch:
    """The read model's answer for one plan (see :mod:`secplan.sync.match`)."""
    by_item = {d.item: d for d in desired.issues} if desired is not None else {}
    keys = [
        ItemKey(item.id, item.line, item.ref, item.done, by_item.get(item.id))
        for item in plan.items
    ]
    return match_plan(plan.id, plan.rel_path, keys, actual, renames=may_create(truth_mode(plan)))


def managed_epic(plan: Plan, actual: Actual) -> str | None:
    """The plan's epic: the one it names, else the one sync recorded or marked for it."""
    if plan.epic:
        return plan.epic
    epic, _other = plan_epic(plan.id, None, actual)
    return epic.ref if epic is not None else None


def foreign_epic(plan: Plan, actual: Actual) -> str | None:
    """The other plan whose epic the plan's ``epic:`` names (by that epic's hidden marker)."""
    return plan_epic(plan.id, plan.epic, actual)[1] if plan.epic else None


def coverage(
    tracker: Tracker, state: SyncState, plans: Sequence[Plan], config: Config
) -> list[PlanCoverage]:
    """Coverage of every plan in ``plans`` (tracker state read in a few batch queries)."""
    actual, desired, problems = _fetch(tracker, state, plans, config)
    return [
        plan_report(plan, actual, desired.get(plan.id), problems.get(plan.id)) for plan in plans
    ]


def plan_report(
    plan: Plan, actual: Actual, desired: DesiredPlan | None, problem: str | None = None
) -> PlanCoverage:
    """Coverage of one plan with the problems that limit it (the web's plan page uses it too)."""
    pc = plan_coverage(plan, actual, managed_epic(plan, actual), desired)
    if problem:
        pc.problems.insert(0, problem)
    other = foreign_epic(plan, actual)
    if other is not None:
        pc.problems.append(
            f"epic {plan.epic} named in the front matter is the epic secplan made for plan "
            f"{other}, not this plan's"
        )
    return pc
