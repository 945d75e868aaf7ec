"""Desired vs actual: the list of changes ``secplan plan`` shows and ``secplan apply`` executes.

Each change is one object (epic, milestone or issue) with an action:
``create`` (missing), ``update`` (fields differ and the plan is the source of truth),
``unchanged``, ``drift`` (the plan changed since it was pushed but the tracker is now the source of
truth) or ``orphan`` (made for an item that is no longer in the plan; never closed or deleted).

Labels and assignees are managed as sets: sync adds what the plan asks for and removes only what
it pushed itself before, so labels people add in the tracker (``workflow::doing``) survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, get_args

from secplan.sync.actual import Actual, records_by_plan
from secplan.sync.desired import (
    EPIC_ITEM,
    DesiredEpic,
    DesiredIssue,
    DesiredMilestone,
    DesiredPlan,
    content_hash,
    epic_made_for_other,
    parse_marker,
    replace_marker,
)
from secplan.sync.lifecycle import Mode, may_create, may_update, truth_mode
from secplan.sync.rename import norm_text, plan_section, resembles
from secplan.sync.shared import MilestoneKey, SharedMilestone
from secplan.sync.state import SyncRecord
from secplan.tracker.base import TrackedEpic, TrackedIssue, TrackedMilestone

Action = Literal["create", "update", "unchanged", "drift", "orphan"]
Kind = Literal["epic", "milestone", "issue"]
ACTIONS: tuple[Action, ...] = get_args(Action)

#: Stands for the ref of an epic that this same apply creates first.
PENDING_EPIC = "(new epic)"


@dataclass
class FieldChange:
    """One field that differs: tracker value (``old``) and plan value (``new``)."""

    name: str
    old: Any
    new: Any


@dataclass
class Change:
    """One object and what sync does (or would do) with it."""

    action: Action
    kind: Kind
    plan: str
    item: str | None
    ref: str | None
    title: str
    target: str = ""  # project (issues) or group (epics, milestones)
    fields: list[FieldChange] = field(default_factory=list)
    note: str = ""
    line: int | None = None
    desired: DesiredEpic | DesiredMilestone | DesiredIssue | None = None
    updates: dict[str, Any] = field(default_factory=dict)  # passed to the tracker's update_*
    record: bool = False  # bookkeeping must be (re)written even without a tracker write
    done: bool = False  # the item is ticked in the plan and needs no issue
    renamed_from: str | None = None  # the issue follows its item, whose id was this
    marker_only: bool = False  # the update rewrites only the marker (tracker is the truth)
    moved: SyncRecord | None = None  # with marker_only: the old record, under the new item

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of ``secplan plan --format json``."""
        return {
            "action": self.action,
            "kind": self.kind,
            "plan": self.plan,
            "item": self.item,
            "ref": self.ref,
            "title": self.title,
            "target": self.target,
            "fields": [{"field": f.name, "old": f.old, "new": f.new} for f in self.fields],
            "note": self.note,
            "line": self.line,
        }


@dataclass
class PlanDiff:
    """The changes of one plan, plus what stops or limits its sync."""

    plan: str
    path: str
    status: str
    mode: Mode
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the plan is not applied
    warnings: list[str] = field(default_factory=list)
    #: plans and tracker that cannot both be satisfied: the user must resolve them
    conflicts: list[str] = field(default_factory=list)
    epic_ref: str | None = None  # resolved epic ref, PENDING_EPIC, or None


def merge_managed(actual: list[str], desired: list[str], pushed: list[str]) -> list[str]:
    """``actual`` minus what sync pushed before and no longer wants, plus ``desired``."""
    drop = set(pushed) - set(desired)
    out = [x for x in actual if x not in drop]
    out += [d for d in desired if d not in out]
    return out


class _Delta:
    """Collects the fields to update and how each differs (tracker value -> plan value)."""

    def __init__(self, pushed: dict[str, Any]) -> None:
        self.pushed = pushed
        self.updates: dict[str, Any] = {}
        self.changes: list[FieldChange] = []

    def put(self, name: str, old: Any, new: Any) -> None:
        self.updates[name] = new
        self.changes.append(FieldChange(name, old, new))

    def text_and_labels(self, d: DesiredIssue | DesiredEpic, a: TrackedIssue | TrackedEpic) -> None:
        """Title, description and labels, which issues and epics share."""
        if d.title.strip() != a.title.strip():
            self.put("title", a.title, d.title)
        if norm_text(d.description) != norm_text(a.description):
            self.put("description", a.description, d.description)
        self.managed("labels", a.labels, d.labels)

    def managed(self, name: str, actual: list[str], desired: list[str]) -> None:
        merged = merge_managed(actual, desired, list(self.pushed.get(name) or []))
        if set(merged) != set(actual):
            self.put(name, actual, merged)

    def result(self) -> tuple[dict[str, Any], list[FieldChange]]:
        return self.updates, self.changes


def _issue_field_changes(
    d: DesiredIssue,
    a: TrackedIssue,
    rec: SyncRecord | None,
    epic: str | None,
    unlink: str | None = None,
) -> tuple[dict[str, Any], list[FieldChange]]:
    """Fields to update on an issue; ``unlink`` is an epic the issue must leave when sync
    linked it there (another plan's epic, named by mistake)."""
    delta = _Delta(rec.pushed if rec else {})
    delta.text_and_labels(d, a)
    if d.milestone != a.milestone and (d.milestone is not None or delta.pushed.get("milestone")):
        delta.put("milestone", a.milestone, d.milestone)
    delta.managed("assignees", a.assignees, d.assignees)
    if d.confidential != a.confidential:
        delta.put("confidential", a.confidential, d.confidential)
    if epic is not None and a.epic != epic:
        delta.put("epic", a.epic, epic)
    elif epic is None and unlink and a.epic == unlink and delta.pushed.get("epic") == unlink:
        delta.put("epic", a.epic, None)
    return delta.result()


def _pushed_changes(fields: dict[str, Any], pushed: dict[str, Any]) -> list[FieldChange]:
    """Fields whose plan value differs from what was pushed (for drift reports)."""
    out = []
    for name, new in fields.items():
        old = pushed.get(name)
        if isinstance(new, list) and isinstance(old, list):
            if set(map(str, new)) == set(map(str, old)):
                continue
        elif str(old if old is not None else "") == str(new if new is not None else ""):
            continue
        out.append(FieldChange(name, old, new))
    return out


Obj = TypeVar("Obj", TrackedIssue, TrackedEpic)


def _owned(obj: Obj | None, plan_id: str, item: str) -> Obj | None:
    """``obj`` unless its marker says it belongs to another plan or item: a record must never
    hand one item's issue to another (say, after a database restore reused an iid)."""
    if obj is None:
        return None
    owner = parse_marker(obj.description)
    return obj if owner is None or owner == (plan_id, item) else None


class _PlanDiffer:
    """Builds the :class:`PlanDiff` of one plan."""

    def __init__(
        self,
        dp: DesiredPlan,
        actual: Actual,
        create_epic: bool,
        planned: dict[Any, str],
        by_plan: dict[str, list[SyncRecord]],
        shared: dict[MilestoneKey, SharedMilestone] | None = None,
    ) -> None:
        self.dp = dp
        self.shared = shared or {}
        self.unlink: str | None = None  # another plan's epic this plan's issues must leave
        self.actual = actual
        self.create_epic = create_epic
        self.planned = planned  # milestones this run creates -> plan that creates it
        self.mode = truth_mode(dp.plan)
        self.out = PlanDiff(
            plan=dp.id, path=dp.plan.rel_path, status=dp.plan.status, mode=self.mode
        )
        self.claimed: set[str] = set()  # issue refs matched to a current item
        self.by_plan = by_plan
        self.wanted = {d.item for d in dp.issues}

    def rec(self, kind: str, item: str) -> SyncRecord | None:
        return self.actual.records.get((self.dp.id, kind, item))

    def run(self) -> PlanDiff:
        self.epic()
        for m in self.dp.milestones:
            self.milestone(m)
        for d in self.dp.issues:
            self.issue(d)
        self.renames()
        self.orphans()
        return self.out

    # -- epic -------------------------------------------------------------------------------
    def epic(self) -> None:
        d = self.dp.epic
        rec = self.rec("epic", EPIC_ITEM)
        found: TrackedEpic | None = None
        if d.ref:
            found = self.actual.epics_by_ref.get(d.ref)
            if found is None:
                # Issues are still created; a later apply links them once the epic exists.
                self.out.warnings.append(
                    f"epic {d.ref} named in the front matter does not exist in the tracker; "
                    "issues are not linked to it"
                )
                return
            other = epic_made_for_other(found.description, self.dp.id)
            if other is not None:
                # The number was free when the plan was written and another plan's epic took
                # it: linking would file this plan's work under someone else's epic.
                self.out.conflicts.append(
                    f"conflict: epic {d.ref} named in the front matter is the epic secplan made "
                    f"for plan {other}, not this plan's: issues are not linked to it and no "
                    "epic is created. Name this plan's own epic in 'epic:', or remove the line "
                    "and run apply --create-epic"
                )
                self.unlink = found.ref
                note = f"conflict: made for plan {other}; not linked"
                self._add("unchanged", "epic", None, found.ref, found.title, d.group, note=note)
                return
            if d.marker not in found.description:
                # A promoted epic: its text belongs to people, sync only links issues to it.
                self.out.epic_ref = found.ref
                self._add("unchanged", "epic", None, found.ref, found.title, d.group, desired=d)
                return
        else:
            mine = self.actual.epics_by_plan.get(self.dp.id) or []
            if rec is not None:
                found = _owned(self.actual.epics_by_ref.get(rec.ref), self.dp.id, EPIC_ITEM)
            if found is None and mine:
                found = mine[0]
        if found is None:
            if self.create_epic and may_create(self.mode):
                self.out.epic_ref = PENDING_EPIC
                self._add("create", "epic", None, None, d.title, d.group, desired=d)
            elif may_create(self.mode):
                self.out.warnings.append(
                    "the plan names no epic: issues are not linked to one (--create-epic makes one)"
                )
            return
        self.out.epic_ref = found.ref
        self._existing(
            "epic",
            EPIC_ITEM,
            found.ref,
            d.title,
            d.group,
            d,
            rec,
            self._epic_updates(d, found, rec),
        )

    def _epic_updates(
        self, d: DesiredEpic, a: TrackedEpic, rec: SyncRecord | None
    ) -> tuple[dict[str, Any], list[FieldChange]]:
        delta = _Delta(rec.pushed if rec else {})
        delta.text_and_labels(d, a)
        if d.confidential != a.confidential:
            delta.put("confidential", a.confidential, d.confidential)
        return delta.result()

    # -- milestones -------------------------------------------------------------------------
    def milestone(self, d: DesiredMilestone) -> None:
        key = (d.group, d.title)
        ref = d.ref
        a = self.actual.milestones.get(key)
        shared = self.shared.get(key)
        if shared is not None and not shared.agree and self.mode != "frozen":
            self._disputed_milestone(d, shared, a)
            return
        if shared is not None and self.mode != "frozen":
            # Plans that agree ask for one milestone (with the description some of them give).
            d = shared.merged(self.dp.id)
        rec = self.rec("milestone", d.title)
        if a is None:
            creator = self.planned.get(key)
            if creator is not None:
                note = f"created for plan {creator}"
                self._add("unchanged", "milestone", d.title, ref, d.title, d.group, note=note)
            elif may_create(self.mode):
                self.planned[key] = self.dp.id
                self._add("create", "milestone", d.title, ref, d.title, d.group, desired=d)
            return
        self._existing(
            "milestone",
            d.title,
            ref,
            d.title,
            d.group,
            d,
            rec,
            self._milestone_updates(d, a),
        )
        change = self.out.changes[-1]
        if change.action == "update":
            # The plans that share it want the same update: the first one makes it.
            updater = self.planned.setdefault(key, self.dp.id)
            if updater != self.dp.id:
                change.action, change.fields, change.updates = "unchanged", [], {}
                change.note = f"updated for plan {updater}"

    def _disputed_milestone(
        self, d: DesiredMilestone, shared: SharedMilestone, a: TrackedMilestone | None
    ) -> None:
        """Plans disagree on a shared milestone: create it as the first plan (by id) declares
        it, otherwise leave its fields alone, so no apply flips it back and forth."""
        key = (d.group, d.title)
        ref = d.ref
        self.out.conflicts.append(shared.conflict())
        first = shared.declarations[0].plan
        names = ", ".join(x.plan for x in shared.declarations)
        note = f"conflict: plans {names} declare it differently"
        line = next((x.line for x in shared.declarations if x.plan == self.dp.id), None)
        if a is not None:
            note += "; its fields are left alone"
            self._add(
                "unchanged", "milestone", d.title, ref, d.title, d.group, line=line, note=note
            )
            return
        creator = self.planned.get(key)
        if creator is not None:
            note += f"; created for plan {creator}"
            self._add(
                "unchanged", "milestone", d.title, ref, d.title, d.group, line=line, note=note
            )
        elif may_create(self.mode):
            self.planned[key] = self.dp.id
            note += f"; created as plan {first} declares it"
            self._add(
                "create", "milestone", d.title, ref, d.title, d.group, shared.canonical, line, note
            )

    @staticmethod
    def _milestone_updates(
        d: DesiredMilestone, a: TrackedMilestone
    ) -> tuple[dict[str, Any], list[FieldChange]]:
        delta = _Delta({})
        for name, new, old in (("start", d.start, a.start), ("due", d.due, a.due)):
            if new != old:
                delta.put(name, old, new)
        if d.description and norm_text(d.description) != norm_text(a.description):
            delta.put("description", a.description, d.description)
        return delta.result()

    # -- issues -----------------------------------------------------------------------------
    def issue(self, d: DesiredIssue) -> None:
        self._check_milestone(d)
        rec = self.rec("issue", d.item)
        found: TrackedIssue | None = None
        if d.ref:
            found = self.actual.issues_by_ref.get(d.ref)
            if found is None:
                self.out.warnings.append(
                    f"line {d.line}: item '{d.item}' names {d.ref}, which the tracker does not have"
                )
                self._add("unchanged", "issue", d.item, d.ref, d.title, d.project, line=d.line)
                self.out.changes[-1].note = "covered by an issue the tracker does not have"
                return
            self.claimed.add(found.ref)
            owner = parse_marker(found.description)
            if owner is None or owner[0] != self.dp.id:
                # An issue written by people that covers the item: never touched.
                self._add(
                    "unchanged",
                    "issue",
                    d.item,
                    found.ref,
                    d.title,
                    d.project,
                    line=d.line,
                    note="covered by an existing issue",
                )
                return
            if owner[1] != d.item and owner[1] in self.wanted:
                # Another current item's issue: adopting it would hand one issue to two items.
                self._add(
                    "unchanged",
                    "issue",
                    d.item,
                    found.ref,
                    d.title,
                    d.project,
                    line=d.line,
                    note=f"covered by the issue of item {owner[1]}",
                )
                return
            if owner[1] != d.item and self.mode != "frozen":
                self._adopt(d, found, owner[1])
                return
        else:
            mine = self.actual.issues_by_key.get((self.dp.id, d.item)) or []
            if rec is not None:
                found = _owned(self.actual.issues_by_ref.get(rec.ref), self.dp.id, d.item)
            if found is None and mine:
                found = mine[0]
            if found is not None:
                self.claimed.add(found.ref)
            for dup in mine:
                if found is not None and dup.ref != found.ref:
                    self.claimed.add(dup.ref)
                    self._add(
                        "orphan",
                        "issue",
                        d.item,
                        dup.ref,
                        dup.title,
                        dup.project,
                        note=f"duplicate of {found.ref}",
                    )
        if found is None:
            if d.done:
                self._add(
                    "unchanged",
                    "issue",
                    d.item,
                    None,
                    d.title,
                    d.project,
                    line=d.line,
                    note="done in the plan; no issue needed",
                )
                self.out.changes[-1].done = True
            elif may_create(self.mode):
                self._add("create", "issue", d.item, None, d.title, d.project, d, line=d.line)
            return
        self._existing_issue(d, found, rec)

    def _existing_issue(
        self, d: DesiredIssue, found: TrackedIssue, rec: SyncRecord | None
    ) -> Change:
        """Compare item ``d`` with its issue ``found``; the change is appended and returned."""
        self._existing(
            "issue",
            d.item,
            found.ref,
            d.title,
            d.project,
            d,
            rec,
            _issue_field_changes(d, found, rec, self.out.epic_ref, self.unlink),
            line=d.line,
        )
        change = self.out.changes[-1]
        self._tick(change, d, found, rec)
        return change

    def _adopt(self, d: DesiredIssue, found: TrackedIssue, old: str) -> Change:
        """The issue sync made for item ``old`` of this plan follows its renamed item ``d``: its
        marker names ``d`` from now on and its sync record moves along. While the plan is the
        source of truth the issue is updated like any other; from ``implementing`` on only the
        marker changes (the text edits stay drift)."""
        self.claimed.add(found.ref)
        old_rec = self.rec("issue", old)
        rec = old_rec if old_rec is not None and old_rec.ref == found.ref else None
        if self.mode == "plan":
            change = self._existing_issue(d, found, rec)
            change.note = f"renamed from {old}"
        else:
            change = Change(
                "update", "issue", self.dp.id, d.item, found.ref, d.title, d.project, line=d.line
            )
            change.desired = d
            change.fields = [FieldChange("marker", old, d.item)]
            change.updates = {"description": replace_marker(found.description, self.dp.id, d.item)}
            change.marker_only = True
            change.moved = replace(rec, item=d.item) if rec is not None else None
            change.note = (
                f"renamed from {old}; the tracker is the source of truth, only the marker changes"
            )
            self.out.changes.append(change)
        change.renamed_from = old
        change.record = True
        return change

    def renames(self) -> None:
        """Items renamed without a ref: in a section where exactly one item would be created and
        exactly one issue of this plan lost its item, and the old pushed text resembles the new
        item, the issue follows the item. Anything ambiguous stays create + orphan."""
        creates: dict[str, list[int]] = {}
        for i, c in enumerate(self.out.changes):
            if c.kind == "issue" and c.action == "create" and isinstance(c.desired, DesiredIssue):
                creates.setdefault(plan_section(c.desired.description) or "", []).append(i)
        if not creates:
            return
        gone: dict[str | None, list[tuple[str, TrackedIssue, SyncRecord | None]]] = {}
        for item, issue in self._orphan_issues():
            rec = self.rec("issue", item)
            rec = rec if rec is not None and rec.ref == issue.ref else None
            text = str(rec.pushed.get("description") or "") if rec else issue.description
            gone.setdefault(plan_section(text), []).append((item, issue, rec))
        if not gone or gone.get(None):  # an orphan of unknown section might be any section's
            return
        adopted: list[tuple[int, Change]] = []
        for section, indexes in creates.items():
            candidates = gone.get(section) or []
            if len(indexes) != 1 or len(candidates) != 1:
                continue
            item, issue, rec = candidates[0]
            create = self.out.changes[indexes[0]]
            d = create.desired
            assert isinstance(d, DesiredIssue)
            if parse_marker(issue.description) != (self.dp.id, item):
                continue  # never adopt an issue whose marker names another plan or none
            if not resembles(d, issue, rec):
                continue
            start = len(self.out.changes)
            self._adopt(d, issue, item)
            adopted.append((indexes[0], self.out.changes.pop(start)))
        for index, change in adopted:
            self.out.changes[index] = change

    def _tick(
        self, change: Change, d: DesiredIssue, found: TrackedIssue, rec: SyncRecord | None
    ) -> None:
        """Ticking an item closes its issue, unticking reopens it (while the plan is the source
        of truth); later the mismatch is drift. Only an issue sync closed for a tick (the record
        says the item was ticked) is reopened: issues people closed stay closed."""
        if d.done and found.state == "opened":
            want, note = "closed", "ticked in the plan, open in the tracker"
        elif not d.done and found.state == "closed" and rec is not None and rec.pushed.get("done"):
            want, note = "opened", "unticked in the plan, closed in the tracker"
        else:
            return
        state = FieldChange("state", found.state, want)
        if self.mode == "plan":
            change.action = "update"
            change.fields.append(state)
            change.updates["state"] = want
        elif self.mode == "tracker" and change.action == "unchanged":
            change.action = "drift"
            change.fields = [state]
            change.note = note + "; the tracker is the source of truth"
        elif self.mode == "tracker" and change.action == "drift":
            change.fields.append(state)

    def _check_milestone(self, d: DesiredIssue) -> None:
        if d.milestone is None:
            return
        if self.dp.plan.milestone(d.milestone) is not None:
            return
        if any(title == d.milestone for (_g, title) in self.actual.milestones):
            return
        self.out.warnings.append(
            f"line {d.line}: item '{d.item}' names milestone '{d.milestone}', which neither the "
            "plan nor the tracker has; the issue gets no milestone"
        )
        d.milestone = None

    # -- shared -----------------------------------------------------------------------------
    def _existing(
        self,
        kind: Kind,
        item: str,
        ref: str,
        title: str,
        target: str,
        d: DesiredEpic | DesiredMilestone | DesiredIssue,
        rec: SyncRecord | None,
        diff: tuple[dict[str, Any], list[FieldChange]],
        line: int | None = None,
    ) -> None:
        updates, changes = diff
        fields = d.fields()
        h = content_hash(fields)
        stale_record = rec is None or rec.ref != ref or rec.content_hash != h
        change = Change(
            "unchanged", kind, self.dp.id, item, ref, title, target, line=line, desired=d
        )
        if self.mode == "plan":
            if updates:
                change.action = "update"
                change.fields = changes
                change.updates = updates
            change.record = stale_record
        elif self.mode == "tracker":
            if rec is not None and rec.content_hash != h:
                change.action = "drift"
                change.fields = _pushed_changes(fields, rec.pushed)
                change.note = "plan changed since it was pushed; the tracker is the source of truth"
            elif rec is None and changes and kind == "issue":
                # No record (lost or never written): the tracker text is the only reference.
                change.action = "drift"
                change.fields = [c for c in changes if c.name != "epic"]
                change.note = "no sync record; the plan differs from the tracker"
                if not change.fields:
                    change.action = "unchanged"
                    change.record = True
            else:
                change.record = rec is None or rec.ref != ref
        if kind == "epic" and not may_update(self.mode) and change.action == "update":
            change.action = "unchanged"
        self.out.changes.append(change)

    def _add(
        self,
        action: Action,
        kind: Kind,
        item: str | None,
        ref: str | None,
        title: str,
        target: str,
        desired: DesiredEpic | DesiredMilestone | DesiredIssue | None = None,
        line: int | None = None,
        note: str = "",
    ) -> None:
        self.out.changes.append(
            Change(
                action,
                kind,
                self.dp.id,
                item,
                ref,
                title,
                target,
                line=line,
                desired=desired,
                note=note,
            )
        )

    def _orphan_issues(self) -> list[tuple[str, TrackedIssue]]:
        """Issues of this plan (by marker or by record) that no current item claimed."""
        out: list[tuple[str, TrackedIssue]] = []
        seen = set(self.claimed)
        for item in sorted(self.actual.items_by_plan.get(self.dp.id, set()) - self.wanted):
            for issue in self.actual.issues_by_key[(self.dp.id, item)]:
                if issue.ref not in seen:
                    seen.add(issue.ref)
                    out.append((item, issue))
        for rec in sorted(self.by_plan.get(self.dp.id, []), key=lambda r: r.item):
            if rec.kind != "issue" or rec.item in self.wanted:
                continue
            known = self.actual.issues_by_ref.get(rec.ref)
            if known is not None and known.ref not in seen:
                seen.add(known.ref)
                out.append((rec.item, known))
        return out

    def orphans(self) -> None:
        for item, issue in self._orphan_issues():
            self.claimed.add(issue.ref)
            self._add(
                "orphan",
                "issue",
                item,
                issue.ref,
                issue.title,
                issue.project,
                note="its item is no longer in the plan",
            )


def diff_plans(
    plans: list[DesiredPlan],
    actual: Actual,
    *,
    create_epic: bool = False,
    all_plans: bool = False,
    shared: dict[MilestoneKey, SharedMilestone] | None = None,
) -> list[PlanDiff]:
    """The changes for every plan (in order); with ``all_plans``, issues of plans that no longer
    exist are reported as orphans under their old plan id. ``shared`` holds every declaration
    of the milestones the plans declare (see :mod:`secplan.sync.shared`)."""
    planned: dict[Any, str] = {}
    by_plan = records_by_plan(actual.records)
    out = [_PlanDiffer(dp, actual, create_epic, planned, by_plan, shared).run() for dp in plans]
    if all_plans:
        known = {dp.id for dp in plans}
        gone: dict[str, PlanDiff] = {}
        for (plan_id, item), issues in sorted(actual.issues_by_key.items()):
            if plan_id in known or item == EPIC_ITEM:
                continue
            pd = gone.setdefault(
                plan_id, PlanDiff(plan=plan_id, path="", status="removed", mode="frozen")
            )
            for issue in issues:
                pd.changes.append(
                    Change(
                        "orphan",
                        "issue",
                        plan_id,
                        item,
                        issue.ref,
                        issue.title,
                        issue.project,
                        note="its plan is no longer in the handbook",
                    )
                )
        out.extend(gone[k] for k in sorted(gone))
    return out
