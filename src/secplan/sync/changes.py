"""The changes ``secplan plan`` shows and ``secplan apply`` executes, one per tracker object.

Each change is one object (epic, milestone or issue) with an action: ``create`` (missing),
``update`` (fields differ and the plan is the source of truth), ``unchanged``, ``drift`` (the plan
changed since it was pushed but the tracker is now the source of truth) or ``orphan`` (made for
an item that is no longer in the plan; never closed or deleted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from secplan.sync.desired import DesiredEpic, DesiredIssue, DesiredMilestone
from secplan.sync.lifecycle import Mode
from secplan.sync.state import SyncRecord

Action = Literal["create", "update", "unchanged", "drift", "orphan"]
Kind = Literal["epic", "milestone", "issue"]
ACTIONS: tuple[Action, ...] = get_args(Action)


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
