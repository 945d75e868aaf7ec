"""Who is the source of truth for a plan's objects, by plan status.

- ``draft``, ``review``, ``ready``: the plan. Edits to an item are pushed to its issue.
- ``implementing``, ``implemented``: the tracker. Sync still creates issues for items nobody
  covered yet, but never overwrites an issue's text; items whose plan text changed since it was
  pushed are reported as drift.
- ``abandoned``, ``superseded``: nothing is created or changed; existing objects are only reported.
"""

from __future__ import annotations

from typing import Literal

from secplan.model import TRACKER_IS_TRUTH, Plan

Mode = Literal["plan", "tracker", "frozen"]
FROZEN: frozenset[str] = frozenset({"abandoned", "superseded"})


def truth_mode(plan: Plan) -> Mode:
    """``plan`` (push edits), ``tracker`` (create, report drift) or ``frozen`` (report only)."""
    if plan.status in TRACKER_IS_TRUTH:
        return "tracker"
    if plan.status in FROZEN:
        return "frozen"
    return "plan"


def may_create(mode: Mode) -> bool:
    """Whether sync creates missing objects for a plan in this mode."""
    return mode != "frozen"


def may_update(mode: Mode) -> bool:
    """Whether sync overwrites existing objects for a plan in this mode."""
    return mode == "plan"
