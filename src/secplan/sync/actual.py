"""Actual state: what the tracker holds for a set of plans, read in a few batch queries.

One marker search per project (every issue sync ever made there), one per group for epics, one
milestone listing per group, one read of the sync records; single lookups only for refs the plans
name explicitly and records whose marker was removed by hand. A no-op apply of 100 plans therefore
costs a handful of queries, not one per item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from secplan.errors import NotFoundError
from secplan.sync.desired import MARKER_PREFIX, DesiredPlan, parse_marker
from secplan.sync.state import Key, SyncRecord, SyncState
from secplan.tracker.base import TrackedEpic, TrackedIssue, TrackedMilestone, Tracker

T = TypeVar("T")


@dataclass
class Actual:
    """The tracker's side, indexed for the diff."""

    issues_by_key: dict[tuple[str, str], list[TrackedIssue]] = field(default_factory=dict)
    issues_by_ref: dict[str, TrackedIssue] = field(default_factory=dict)
    epics_by_plan: dict[str, list[TrackedEpic]] = field(default_factory=dict)
    epics_by_ref: dict[str, TrackedEpic] = field(default_factory=dict)
    milestones: dict[tuple[str, str], TrackedMilestone] = field(default_factory=dict)
    records: dict[Key, SyncRecord] = field(default_factory=dict)
    #: plan id -> item ids with marked issues (so per-plan lookups never scan every issue)
    items_by_plan: dict[str, set[str]] = field(default_factory=dict)

    def add_issue(self, issue: TrackedIssue) -> None:
        """Index one issue by ref and by marker."""
        self.issues_by_ref[issue.ref] = issue
        found = parse_marker(issue.description)
        if found is not None:
            plan_id, item = found
            bucket = self.issues_by_key.setdefault((plan_id, item), [])
            self.items_by_plan.setdefault(plan_id, set()).add(item)
            if all(i.ref != issue.ref for i in bucket):
                bucket.append(issue)
                bucket.sort(key=lambda i: (i.project, i.iid))

    def add_epic(self, epic: TrackedEpic) -> None:
        """Index one epic by ref and by marker."""
        self.epics_by_ref[epic.ref] = epic
        found = parse_marker(epic.description)
        if found is not None:
            bucket = self.epics_by_plan.setdefault(found[0], [])
            if all(e.ref != epic.ref for e in bucket):
                bucket.append(epic)
                bucket.sort(key=lambda e: (e.group, e.iid))


def fetch_actual(
    tracker: Tracker, plans: Iterable[DesiredPlan], state: SyncState, *, all_plans: bool = False
) -> Actual:
    """Read what the tracker holds for ``plans`` (``all_plans``: the whole handbook is synced, so
    records of plans no longer on disk are loaded too)."""
    plans = list(plans)
    actual = Actual()
    actual.records = state.load(None if all_plans else [p.id for p in plans])

    projects: set[str] = {p.project for p in plans}
    groups: set[str] = {p.group for p in plans}
    for project in sorted(projects):
        for issue in tracker.find_issues(project, MARKER_PREFIX):
            actual.add_issue(issue)
    for group in sorted(groups):
        for epic in tracker.find_epics(group, MARKER_PREFIX):
            actual.add_epic(epic)
        for ms in tracker.list_milestones(group):
            actual.milestones[(ms.group, ms.title)] = ms

    # Refs the plans name and records whose issue the marker search did not find.
    wanted_issues: set[str] = set()
    wanted_epics: set[str] = set()
    for p in plans:
        if p.epic.ref:
            wanted_epics.add(p.epic.ref)
        for d in p.issues:
            if d.ref:
                wanted_issues.add(d.ref)
    for rec in actual.records.values():
        if rec.kind == "issue":
            wanted_issues.add(rec.ref)
        elif rec.kind == "epic":
            wanted_epics.add(rec.ref)
    missing = sorted(wanted_issues - actual.issues_by_ref.keys())
    if missing:
        for found in tracker.get_issues(missing).values():
            actual.add_issue(found)
    for ref in sorted(wanted_epics - actual.epics_by_ref.keys()):
        found_epic = _get(tracker.get_epic, ref)
        if found_epic is not None:
            actual.add_epic(found_epic)
    return actual


def _get(getter: Callable[[str], T | None], ref: str) -> T | None:
    # A ref in a plan may name a project or group the tracker has never heard of.
    try:
        return getter(ref)
    except NotFoundError:
        return None


def records_by_plan(records: dict[Key, SyncRecord]) -> dict[str, list[SyncRecord]]:
    """Records grouped by plan id."""
    out: dict[str, list[SyncRecord]] = defaultdict(list)
    for rec in records.values():
        out[rec.plan].append(rec)
    return dict(out)
