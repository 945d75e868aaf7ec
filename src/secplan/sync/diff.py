"""Desired vs actual: the :class:`~secplan.sync.changes.Change` list of every plan.

The diff walks a plan's epic, milestones and items; which issue is an item's comes from the read
model (:mod:`secplan.sync.match`), how fields differ from :mod:`secplan.sync.fields`, who may
change what from :mod:`secplan.sync.lifecycle`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from secplan.sync.actual import Actual, records_by_plan
from secplan.sync.changes import Action, Change, FieldChange, Kind, PlanDiff
from secplan.sync.desired import (
    EPIC_ITEM,
    DesiredEpic,
    DesiredIssue,
    DesiredMilestone,
    DesiredPlan,
    content_hash,
    replace_marker,
)
from secplan.sync.fields import (
    epic_field_changes,
    issue_field_changes,
    milestone_field_changes,
    pushed_changes,
)
from secplan.sync.lifecycle import may_create, may_update, truth_mode
from secplan.sync.match import ItemKey, ItemMatch, PlanMatch, match_plan, plan_epic
from secplan.sync.shared import MilestoneKey, SharedMilestone
from secplan.sync.state import SyncRecord
from secplan.tracker.base import TrackedIssue, TrackedMilestone

#: Stands for the ref of an epic that this same apply creates first.
PENDING_EPIC = "(new epic)"


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
        self.by_plan = by_plan
        self.match: PlanMatch | None = None

    def rec(self, kind: str, item: str) -> SyncRecord | None:
        return self.actual.records.get((self.dp.id, kind, item))

    def run(self) -> PlanDiff:
        self.epic()
        for m in self.dp.milestones:
            self.milestone(m)
        self.match = match_plan(
            self.dp.id,
            self.dp.plan.rel_path,
            [ItemKey(d.item, d.line, d.ref, d.done, d) for d in self.dp.issues],
            self.actual,
            renames=may_create(self.mode),
            records=self.by_plan,
        )
        for d in self.dp.issues:
            self.issue(d, self.match.items[d.item])
        for item, issue in self.match.orphans:
            self._add(
                "orphan",
                "issue",
                item,
                issue.ref,
                issue.title,
                issue.project,
                note="its item is no longer in the plan",
            )
        return self.out

    # -- epic -------------------------------------------------------------------------------
    def epic(self) -> None:
        d = self.dp.epic
        rec = self.rec("epic", EPIC_ITEM)
        found, other = plan_epic(self.dp.id, d.ref, self.actual)
        if d.ref:
            if found is None:
                # Issues are still created; a later apply links them once the epic exists.
                self.out.warnings.append(
                    f"epic {d.ref} named in the front matter does not exist in the tracker; "
                    "issues are not linked to it"
                )
                return
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
            epic_field_changes(d, found, rec),
        )

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
                self._add("unchanged", "milestone", d.title, ref, d.title, d.group, d, note=note)
                # Recorded now, so the next apply of an unchanged handbook writes nothing.
                self.out.changes[-1].record = True
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
            milestone_field_changes(d, a),
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

    # -- issues -----------------------------------------------------------------------------
    def issue(self, d: DesiredIssue, m: ItemMatch) -> None:
        self._check_milestone(d)
        if m.conflict:
            self.out.conflicts.append(m.conflict)
            note = "conflict: not credited"
            if m.claimed_by:
                note = f"conflict: the issue of item {m.claimed_by}; not credited"
            self._add(
                "unchanged", "issue", d.item, d.ref, d.title, d.project, line=d.line, note=note
            )
            return
        for dup in m.duplicates:
            assert m.issue is not None
            self._add(
                "orphan",
                "issue",
                d.item,
                dup.ref,
                dup.title,
                dup.project,
                note=f"duplicate of {m.issue.ref}",
            )
        found = m.issue
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
        if m.renamed_from is not None and self.mode != "frozen":
            self._adopt(d, found, m.renamed_from)
            return
        self._existing_issue(d, found, self.rec("issue", d.item))

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
            issue_field_changes(d, found, rec, self.out.epic_ref, self.unlink),
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
                change.fields = pushed_changes(fields, rec.pushed)
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
