"""Group milestones shared by several plans: do their definitions agree?

A group milestone is found by title, so every plan of the group that declares the same title
shares one milestone. When two plans give it different dates or descriptions, pushing each
plan's version would flip the milestone back and forth on every apply. This module collects the
declarations of every plan that may write (not ``abandoned``/``superseded``) per (group, title),
in plan id order, and tells whether they agree. The rule sync follows on disagreement: the
milestone is created as the first plan in id order declares it, and none of its fields is
changed until every plan declares it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from secplan.config import Config
from secplan.errors import SecplanError
from secplan.model import Plan
from secplan.sync.desired import DesiredMilestone, plan_group, plan_project
from secplan.sync.lifecycle import truth_mode

MilestoneKey = tuple[str, str]  # (group, title)


@dataclass
class Declaration:
    """One plan's definition of a milestone, and where it is written."""

    plan: str
    path: str
    line: int
    milestone: DesiredMilestone


@dataclass
class SharedMilestone:
    """Every declaration of one group milestone, in plan id order."""

    group: str
    title: str
    declarations: list[Declaration] = field(default_factory=list)

    @property
    def canonical(self) -> DesiredMilestone:
        """The definition a missing milestone is created from: the first plan's, by id."""
        return self.declarations[0].milestone

    def merged(self, plan_id: str) -> DesiredMilestone:
        """What agreeing declarations ask for, as ``plan_id``'s milestone: their dates and the
        description those that give one give."""
        base = self.canonical
        text = next(
            (d.milestone.description for d in self.declarations if d.milestone.description.strip()),
            "",
        )
        return DesiredMilestone(plan_id, self.group, self.title, base.start, base.due, text)

    def differing(self) -> list[str]:
        """Names of the fields the declarations disagree on (an empty description agrees with
        any: a plan that gives none leaves the description alone)."""
        out = []
        for name in ("start", "due"):
            if len({getattr(d.milestone, name) for d in self.declarations}) > 1:
                out.append(name)
        texts = {d.milestone.description.strip() for d in self.declarations}
        if len(texts - {""}) > 1:
            out.append("description")
        return out

    @property
    def agree(self) -> bool:
        """Whether every declaration asks for the same milestone."""
        return not self.differing()

    def conflict(self) -> str:
        """The warning shown to every plan that declares the milestone."""
        details = []
        for name in self.differing():
            if name == "description":
                details.append("description differs")
                continue
            values = " vs ".join(
                str(getattr(d.milestone, name) or "none") for d in self.declarations
            )
            details.append(f"{name} {values}")
        where = " and ".join(f"{d.plan} ({d.path}:{d.line})" for d in self.declarations)
        first = self.declarations[0].plan
        return (
            f'conflict: plans {where} declare milestone "{self.title}" of group {self.group} '
            f"differently ({'; '.join(details)}); sync keeps it as {first} declares it and "
            "changes none of its fields until they agree"
        )


def shared_milestones(
    plans: Iterable[Plan], config: Config, keys: set[MilestoneKey] | None = None
) -> dict[MilestoneKey, SharedMilestone]:
    """Declarations per (group, title) over ``plans`` (each plan id counted once, the first
    occurrence wins); ``keys`` limits the result to those milestones. Plans that cannot be
    synced (no project) and frozen plans declare nothing."""
    out: dict[MilestoneKey, SharedMilestone] = {}
    seen: set[str] = set()
    for plan in plans:
        if plan.id in seen or not plan.milestones or truth_mode(plan) == "frozen":
            continue
        seen.add(plan.id)
        try:
            group = plan_group(plan, config, plan_project(plan, config))
        except SecplanError:
            continue
        titles: set[str] = set()
        for m in plan.milestones:
            key = (group, m.title)
            if m.title in titles or (keys is not None and key not in keys):
                continue
            titles.add(m.title)
            shared = out.setdefault(key, SharedMilestone(group, m.title))
            desired = DesiredMilestone(plan.id, group, m.title, m.start, m.due, m.description)
            shared.declarations.append(Declaration(plan.id, plan.rel_path, m.line, desired))
    for shared in out.values():
        shared.declarations.sort(key=lambda d: d.plan)
    return out
