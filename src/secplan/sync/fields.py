"""Managed fields: how an object's tracker values and its plan values differ, and what to send.

Labels and assignees are managed as sets: sync adds what the plan asks for and removes only what
it pushed itself before, so labels people add in the tracker (``workflow::doing``) survive.
Labels go to the tracker as ``add_labels``/``remove_labels``, which it applies atomically.
"""

from __future__ import annotations

from typing import Any

from secplan.sync.changes import FieldChange
from secplan.sync.desired import DesiredEpic, DesiredIssue, DesiredMilestone
from secplan.sync.rename import norm_text
from secplan.sync.state import SyncRecord
from secplan.tracker.base import TrackedEpic, TrackedIssue, TrackedMilestone


def merge_managed(actual: list[str], desired: list[str], pushed: list[str]) -> list[str]:
    """``actual`` minus what sync pushed before and no longer wants, plus ``desired``."""
    drop = set(pushed) - set(desired)
    out = [x for x in actual if x not in drop]
    out += [d for d in desired if d not in out]
    return out


#: (updates by field name of the tracker's update objects, field changes to show)
Diff = tuple[dict[str, Any], list[FieldChange]]


class Delta:
    """Collects the fields to update (named as in :class:`~secplan.tracker.base.IssueUpdate`)
    and how each differs (tracker value -> plan value)."""

    def __init__(self, pushed: dict[str, Any]) -> None:
        self.pushed = pushed
        self.updates: dict[str, Any] = {}
        self.changes: list[FieldChange] = []

    def put(self, name: str, old: Any, new: Any) -> None:
        """Set field ``name`` from ``old`` to ``new``."""
        self.updates[name] = new
        self.changes.append(FieldChange(name, old, new))

    def text_and_labels(self, d: DesiredIssue | DesiredEpic, a: TrackedIssue | TrackedEpic) -> None:
        """Title, description and labels, which issues and epics share."""
        if d.title.strip() != a.title.strip():
            self.put("title", a.title, d.title)
        if norm_text(d.description) != norm_text(a.description):
            self.put("description", a.description, d.description)
        merged = self._merged("labels", a.labels, d.labels)
        if merged is not None:
            # Sent as a delta: labels someone adds between our read and our write survive.
            self.changes.append(FieldChange("labels", a.labels, merged))
            add = [x for x in merged if x not in a.labels]
            remove = [x for x in a.labels if x not in merged]
            if add:
                self.updates["add_labels"] = add
            if remove:
                self.updates["remove_labels"] = remove

    def _merged(self, name: str, actual: list[str], desired: list[str]) -> list[str] | None:
        merged = merge_managed(actual, desired, list(self.pushed.get(name) or []))
        return merged if set(merged) != set(actual) else None

    def managed(self, name: str, actual: list[str], desired: list[str]) -> None:
        """A set field sent whole (assignees): merged as :func:`merge_managed` says."""
        merged = self._merged(name, actual, desired)
        if merged is not None:
            self.put(name, actual, merged)

    def result(self) -> Diff:
        """The updates and the field changes."""
        return self.updates, self.changes


def issue_field_changes(
    d: DesiredIssue,
    a: TrackedIssue,
    rec: SyncRecord | None,
    epic: str | None,
    unlink: str | None = None,
) -> Diff:
    """Fields to update on an issue; ``unlink`` is an epic the issue must leave when sync
    linked it there (another plan's epic, named by mistake)."""
    delta = Delta(rec.pushed if rec else {})
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


def epic_field_changes(d: DesiredEpic, a: TrackedEpic, rec: SyncRecord | None) -> Diff:
    """Fields to update on an epic sync made."""
    delta = Delta(rec.pushed if rec else {})
    delta.text_and_labels(d, a)
    if d.confidential != a.confidential:
        delta.put("confidential", a.confidential, d.confidential)
    return delta.result()


def milestone_field_changes(d: DesiredMilestone, a: TrackedMilestone) -> Diff:
    """Dates and (when the plan gives one) the description of a group milestone."""
    delta = Delta({})
    for name, new, old in (("start", d.start, a.start), ("due", d.due, a.due)):
        if new != old:
            delta.put(name, old, new)
    if d.description and norm_text(d.description) != norm_text(a.description):
        delta.put("description", a.description, d.description)
    return delta.result()


def pushed_changes(fields: dict[str, Any], pushed: dict[str, Any]) -> list[FieldChange]:
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
