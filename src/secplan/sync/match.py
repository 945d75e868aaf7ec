"""The read model of plan ↔ tracker: which issue is the issue of which work item.

One answer for everyone — the diff behind ``plan``/``apply``, ``coverage``, ``status`` and the
web pages — so an issue ``plan`` reports as an orphan is never shown as an item's issue elsewhere.

Identity, strongest first:

1. **A ref written on the item** (by ``apply --write-back`` or by hand). It counts only when the
   issue carries this plan's marker for this item — or for an item of this plan that no longer
   exists (the item was renamed: the issue follows it). Anything else is a **conflict**, never
   credited: the issue does not exist (a clone whose tracker is empty), carries no marker (made
   by hand, or a different tracker's number), or belongs to another plan or another current item.
2. **The sync record** of the item, when its issue still carries the item's marker.
3. **The marker** (lowest iid first; the others are duplicates).
4. **A rename without a ref**: in a section where exactly one item has no issue and exactly one
   issue of this plan lost its item, and the old text resembles the new (see
   :mod:`secplan.sync.rename`).

Issues of the plan (by marker or record) that no item claims are **orphans**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from secplan.sync.actual import Actual, records_by_plan
from secplan.sync.desired import EPIC_ITEM, DesiredIssue, epic_made_for_other, parse_marker
from secplan.sync.rename import plan_section, resembles
from secplan.sync.state import SyncRecord
from secplan.tracker.base import TrackedEpic, TrackedIssue


@dataclass(frozen=True)
class ItemKey:
    """What matching needs of one work item."""

    id: str
    line: int
    ref: str | None = None
    done: bool = False
    #: the item as sync would push it (needed for rename detection; None skips it)
    desired: DesiredIssue | None = None


@dataclass
class ItemMatch:
    """The issue of one item, how it was found, or why none is credited."""

    item: str
    issue: TrackedIssue | None = None
    how: str | None = None  # ref | record | marker | rename
    #: set when the item's issue belongs to another item id of this plan (a renamed item)
    renamed_from: str | None = None
    #: a written ref that cannot be credited (the text says why)
    conflict: str | None = None
    #: the issue the written ref names when it is another current item's (kept for reports)
    claimed_by: str | None = None
    duplicates: list[TrackedIssue] = field(default_factory=list)

    @property
    def credited(self) -> TrackedIssue | None:
        """The issue that covers the item, if any (never one in conflict)."""
        return None if self.conflict else self.issue


@dataclass
class PlanMatch:
    """Every item of a plan matched, and the plan's issues no item claims."""

    plan: str
    items: dict[str, ItemMatch] = field(default_factory=dict)
    orphans: list[tuple[str, TrackedIssue]] = field(default_factory=list)  # (old item, issue)

    def issue_of(self, item: str) -> TrackedIssue | None:
        """The credited issue of ``item``."""
        m = self.items.get(item)
        return m.credited if m is not None else None

    @property
    def conflicts(self) -> list[ItemMatch]:
        """Items whose written ref cannot be credited."""
        return [m for m in self.items.values() if m.conflict]


def _owner_text(owner: tuple[str, str]) -> str:
    plan, item = owner
    return f"plan {plan}'s epic" if item == EPIC_ITEM else f"item '{item}' of plan {plan}"


def _written_ref(
    plan_id: str, key: ItemKey, wanted: set[str], actual: Actual, where: str
) -> ItemMatch:
    """An item that names its issue: credited only when the issue's marker agrees."""
    ref = key.ref or ""
    m = ItemMatch(key.id, how="ref")
    found = actual.issues_by_ref.get(ref)
    head = f"conflict: {where}:{key.line}: item '{key.id}' names {ref}"
    if found is None:
        m.conflict = (
            f"{head}, which the tracker does not have (a tracker that lost its issues, or a "
            "ref copied from another tracker); it is not credited. Fix or remove the ref"
        )
        return m
    m.issue = found
    owner = parse_marker(found.description)
    if owner is None:
        m.conflict = (
            f"{head}, which secplan did not make for it (its description has no secplan "
            "marker); it is not credited. Remove the ref, or see docs/sync.md on adopting an "
            "issue made by hand"
        )
    elif owner[0] != plan_id or owner[1] == EPIC_ITEM:
        m.conflict = f"{head}, which is the issue of {_owner_text(owner)}; it is not credited"
    elif owner[1] != key.id and owner[1] in wanted:
        m.conflict = (
            f"{head}, which is the issue of item '{owner[1]}' of this plan; it is not credited"
        )
        m.claimed_by = owner[1]
    elif owner[1] != key.id:
        m.renamed_from = owner[1]
    return m


def _owned(obj: TrackedIssue | None, plan_id: str, item: str) -> TrackedIssue | None:
    """``obj`` unless its marker says it belongs to another plan or item: a record must never
    hand one item's issue to another (say, after a database restore reused an iid)."""
    if obj is None:
        return None
    owner = parse_marker(obj.description)
    return obj if owner is None or owner == (plan_id, item) else None


def _recorded(plan_id: str, key: ItemKey, actual: Actual) -> ItemMatch:
    """An item without a ref: its sync record, else its marker (lowest iid; others duplicate)."""
    m = ItemMatch(key.id)
    rec = actual.records.get((plan_id, "issue", key.id))
    mine = actual.issues_by_key.get((plan_id, key.id)) or []
    if rec is not None:
        m.issue = _owned(actual.issues_by_ref.get(rec.ref), plan_id, key.id)
        m.how = "record" if m.issue is not None else None
    if m.issue is None and mine:
        m.issue, m.how = mine[0], "marker"
    if m.issue is not None:
        m.duplicates = [dup for dup in mine if dup.ref != m.issue.ref]
    return m


def match_plan(
    plan_id: str,
    path: str,
    items: Sequence[ItemKey],
    actual: Actual,
    *,
    renames: bool = True,
    records: dict[str, list[SyncRecord]] | None = None,
) -> PlanMatch:
    """Match every item of a plan to its issue (see the module docstring). ``renames``: let an
    orphan follow a renamed item (off while the plan may not create issues). ``records``: the
    sync records by plan, when the caller has grouped them already."""
    pm = PlanMatch(plan_id)
    wanted = {k.id for k in items}
    claimed: set[str] = set()
    for key in items:
        m = _written_ref(plan_id, key, wanted, actual, path) if key.ref else None
        if m is None:
            m = _recorded(plan_id, key, actual)
        pm.items[key.id] = m
        if m.issue is not None:
            claimed.add(m.issue.ref)
        claimed.update(d.ref for d in m.duplicates)
    by_plan = records if records is not None else records_by_plan(actual.records)
    orphans = _orphan_issues(plan_id, wanted, claimed, actual, by_plan.get(plan_id, []))
    if renames:
        orphans = _renames(plan_id, items, pm, orphans, actual)
    pm.orphans = orphans
    return pm


def _orphan_issues(
    plan_id: str,
    wanted: set[str],
    claimed: set[str],
    actual: Actual,
    records: list[SyncRecord],
) -> list[tuple[str, TrackedIssue]]:
    """Issues of this plan (by marker or by record) that no current item claimed."""
    out: list[tuple[str, TrackedIssue]] = []
    seen = set(claimed)
    for item in sorted(actual.items_by_plan.get(plan_id, set()) - wanted):
        if item == EPIC_ITEM:
            continue
        for issue in actual.issues_by_key[(plan_id, item)]:
            if issue.ref not in seen:
                seen.add(issue.ref)
                out.append((item, issue))
    for rec in sorted(records, key=lambda r: r.item):
        if rec.kind != "issue" or rec.item in wanted:
            continue
        known = actual.issues_by_ref.get(rec.ref)
        if known is not None and known.ref not in seen:
            seen.add(known.ref)
            out.append((rec.item, known))
    return out


def _renames(
    plan_id: str,
    items: Sequence[ItemKey],
    pm: PlanMatch,
    orphans: list[tuple[str, TrackedIssue]],
    actual: Actual,
) -> list[tuple[str, TrackedIssue]]:
    """Items renamed without a ref: in a section where exactly one item has no issue and exactly
    one issue of this plan lost its item, and the old pushed text resembles the new item, the
    issue follows the item. Anything ambiguous stays unmatched + orphan."""
    lonely: dict[str, list[ItemKey]] = {}
    for key in items:
        m = pm.items[key.id]
        if m.issue is None and not m.conflict and not key.done and key.desired is not None:
            lonely.setdefault(plan_section(key.desired.description) or "", []).append(key)
    if not lonely or not orphans:
        return orphans
    gone: dict[str | None, list[tuple[str, TrackedIssue, SyncRecord | None]]] = {}
    for item, issue in orphans:
        rec = actual.records.get((plan_id, "issue", item))
        rec = rec if rec is not None and rec.ref == issue.ref else None
        text = str(rec.pushed.get("description") or "") if rec else issue.description
        gone.setdefault(plan_section(text), []).append((item, issue, rec))
    if gone.get(None):  # an orphan of unknown section might be any section's
        return orphans
    adopted: set[str] = set()
    for section, keys in lonely.items():
        candidates = gone.get(section) or []
        if len(keys) != 1 or len(candidates) != 1:
            continue
        item, issue, rec = candidates[0]
        key = keys[0]
        assert key.desired is not None
        if parse_marker(issue.description) != (plan_id, item):
            continue  # never adopt an issue whose marker names another plan or none
        if not resembles(key.desired, issue, rec):
            continue
        pm.items[key.id] = ItemMatch(key.id, issue, how="rename", renamed_from=item)
        adopted.add(issue.ref)
    return [(item, issue) for item, issue in orphans if issue.ref not in adopted]


def plan_epic(
    plan_id: str, named: str | None, actual: Actual
) -> tuple[TrackedEpic | None, str | None]:
    """The plan's epic and, when the ``epic:`` it names is another plan's, that plan's id.

    The named epic wins; otherwise the one sync recorded (while it still carries this plan's
    marker) or marked for the plan."""
    if named:
        found = actual.epics_by_ref.get(named)
        other = epic_made_for_other(found.description, plan_id) if found is not None else None
        return found, other
    rec = actual.records.get((plan_id, "epic", EPIC_ITEM))
    if rec is not None:
        epic = actual.epics_by_ref.get(rec.ref)
        owner = parse_marker(epic.description) if epic is not None else None
        if epic is not None and (owner is None or owner == (plan_id, EPIC_ITEM)):
            return epic, None
    mine = actual.epics_by_plan.get(plan_id) or []
    return (mine[0] if mine else None), None
