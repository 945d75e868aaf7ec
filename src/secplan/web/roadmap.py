"""The roadmap's data: milestones with their dates, plans and progress, and a timeline layout.

Milestones come from the plans' front matter and from the tracker (a milestone only the tracker
has still gets a row, so every issue's milestone has a place to link to). Progress is counted
over plan work items as ``secplan status`` counts them (the read model's coverage): an item is
done when its issue is closed, or, without an issue, when it is ticked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from secplan.model import Plan
from secplan.web.app import WebContext
from secplan.web.data import issue_index
from secplan.web.links import milestone_anchor

#: Width of the timeline drawing (SVG user units) and of its label column.
WIDTH, LABEL_W, ROW_H, AXIS_H = 960, 230, 26, 28
#: A milestone with a due date but no start is drawn as this many days before its due date.
DEFAULT_SPAN = timedelta(days=14)


@dataclass
class MilestoneRow:
    """One milestone on the roadmap (merged by title across plans and the tracker)."""

    title: str
    start: date | None = None
    due: date | None = None
    state: str | None = None  # the tracker's (opened | closed), None when not in the tracker
    plans: list[str] = field(default_factory=list)
    closed: int = 0
    total: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of a roadmap milestone."""
        return {
            "title": self.title,
            "anchor": milestone_anchor(self.title),
            "start": self.start.isoformat() if self.start else None,
            "due": self.due.isoformat() if self.due else None,
            "state": self.state,
            "plans": self.plans,
            "closed": self.closed,
            "total": self.total,
            "percent": round(100 * self.closed / self.total) if self.total else None,
        }


def _rows_for(
    plans: list[Plan], ctx: WebContext
) -> tuple[dict[str, MilestoneRow], dict[str, dict[str, MilestoneRow]]]:
    """Milestone rows by title, and per plan its rows (in the order the plan lists them)."""
    view = issue_index(ctx)
    rows: dict[str, MilestoneRow] = {}
    per_plan: dict[str, dict[str, MilestoneRow]] = {}
    for plan in plans:
        mine: dict[str, MilestoneRow] = {}
        for m in plan.milestones:
            row = rows.setdefault(m.title, MilestoneRow(m.title))
            row.start = row.start or m.start
            row.due = row.due or m.due
            mine[m.title] = MilestoneRow(m.title, m.start, m.due)
        for item in view.report(plan).items:
            if not item.milestone:
                continue
            row = rows.setdefault(item.milestone, MilestoneRow(item.milestone))
            own = mine.setdefault(item.milestone, MilestoneRow(item.milestone))
            for r in (row, own):
                r.total += 1
                r.closed += item.complete
        for title in mine:
            if plan.id not in rows[title].plans:
                rows[title].plans.append(plan.id)
        if mine:
            per_plan[plan.id] = mine
    for tm in view_milestones(ctx):
        row = rows.setdefault(tm.title, MilestoneRow(tm.title))
        row.start = row.start or tm.start
        row.due = row.due or tm.due
        row.state = tm.state
        for mine in per_plan.values():
            if tm.title in mine:
                mine[tm.title].state = tm.state
    return rows, per_plan


def view_milestones(ctx: WebContext) -> list[Any]:
    """The tracker's milestones (none without a tracker)."""
    from secplan.web.data import degrades

    @degrades(list)
    def read() -> list[Any]:
        tracker = ctx.tracker
        return list(tracker.list_milestones()) if tracker is not None else []

    return read()


def _order(row: MilestoneRow) -> tuple[Any, ...]:
    return (row.due is None, row.due or date.max, row.start or date.max, row.title)


#: The last roadmap per (context, plan filter), reused while the tracker snapshot and the
#: handbook's plan list are the same objects (counting coverage over every plan is the cost).
_memo: dict[tuple[int, str | None], tuple[Any, Any, dict[str, Any]]] = {}


def roadmap_view(ctx: WebContext, plan_id: str | None = None) -> dict[str, Any]:
    """Milestones (sorted by due date) for the handbook, or for one plan, and per plan."""
    plans = ctx.plans.plans()
    view = issue_index(ctx)
    key = (id(ctx), plan_id)
    hit = _memo.get(key)
    if hit is not None and hit[0] is view and hit[1] is plans:
        return hit[2]
    result = _roadmap(ctx, plans, plan_id)
    if len(_memo) > 64:
        _memo.clear()
    _memo[key] = (view, plans, result)
    return result


def _roadmap(ctx: WebContext, plans: list[Plan], plan_id: str | None) -> dict[str, Any]:
    if plan_id is not None:
        plans = [p for p in plans if p.id == plan_id]
    rows, per_plan = _rows_for(plans, ctx)
    if plan_id is not None:
        rows = {t: r for t, r in rows.items() if plan_id in r.plans}
    titles = {p.id: p.title or p.id for p in plans}
    return {
        "plan": plan_id,
        "milestones": [r.to_json() for r in sorted(rows.values(), key=_order)],
        "plans": [
            {
                "id": pid,
                "title": titles[pid],
                "milestones": [r.to_json() for r in sorted(mine.values(), key=_order)],
            }
            for pid, mine in sorted(per_plan.items())
        ],
    }


def timeline(milestones: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Where each dated milestone's bar, progress and due marker go on the timeline drawing."""
    dated = [m for m in milestones if m["due"]]
    if not dated:
        return {"rows": [], "ticks": [], "height": 0, "width": WIDTH}
    starts = [_start(m) for m in dated]
    dues = [date.fromisoformat(m["due"]) for m in dated]
    lo = min([*starts, today]) - timedelta(days=3)
    hi = max([*dues, today]) + timedelta(days=7)
    span = max((hi - lo).days, 1)
    plot = WIDTH - LABEL_W - 10

    def x(d: date) -> float:
        return round(LABEL_W + plot * (d - lo).days / span, 1)

    rows = []
    for k, (m, start, due) in enumerate(zip(dated, starts, dues, strict=True)):
        x0, x1 = x(start), x(due)
        width = max(x1 - x0, 2.0)
        share = m["closed"] / m["total"] if m["total"] else 0.0
        rows.append(
            {
                **m,
                "y": AXIS_H + k * ROW_H,
                "x": x0,
                "width": width,
                "done_width": round(width * share, 1),
                "due_x": x1,
                "late": due < today and m["total"] and m["closed"] < m["total"],
            }
        )
    ticks = []
    month = date(lo.year, lo.month, 1)
    while month <= hi:
        if month >= lo and x(month) <= WIDTH - 58:  # a label past that would be cut off
            ticks.append({"x": x(month), "label": month.strftime("%b %Y")})
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    height = AXIS_H + len(rows) * ROW_H + 6
    return {
        "rows": rows,
        "ticks": ticks,
        "today_x": x(today),
        "today": today.isoformat(),
        "height": height,
        "width": WIDTH,
        "label_w": LABEL_W,
    }


def _start(m: dict[str, Any]) -> date:
    due = date.fromisoformat(m["due"])
    start = date.fromisoformat(m["start"]) if m["start"] else due - DEFAULT_SPAN
    return min(start, due)
