"""Tracker pages: an epic with its issues by milestone, and the issue board (open / closed)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from secplan.sync.desired import parse_marker
from secplan.web.app import WebContext, get_ctx, render
from secplan.web.data import issue_dict, issue_index

router = APIRouter()

NO_MILESTONE = "(no milestone)"


def _tracker(ctx: WebContext) -> Any:
    tracker = ctx.tracker
    if tracker is None:
        raise HTTPException(status_code=503, detail=ctx.store_error or "tracker unavailable")
    return tracker


def epic_view(ctx: WebContext, ref: str) -> dict[str, Any]:
    """The epic, its child issues grouped by milestone, and the plans that name it."""
    from secplan.refs import parse_epic_ref

    if parse_epic_ref(ref) is None:
        raise HTTPException(status_code=404, detail=f"'{ref}' is not an epic reference")
    tracker = _tracker(ctx)
    epic = tracker.get_epic(ref)
    if epic is None:
        raise HTTPException(status_code=404, detail=f"no epic {ref}")
    children = issue_index(ctx).by_epic.get(epic.ref, [])
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for issue in sorted(children, key=lambda i: (i.project, i.iid)):
        groups[issue.milestone or NO_MILESTONE].append(issue_dict(issue))
    milestones = []
    for title in sorted(groups, key=lambda t: (t == NO_MILESTONE, t)):
        issues = groups[title]
        closed = sum(1 for i in issues if i["state"] == "closed")
        milestones.append(
            {"title": title, "issues": issues, "closed": closed, "total": len(issues)}
        )
    return {
        "ref": epic.ref,
        "title": epic.title,
        "state": epic.state,
        "labels": list(epic.labels),
        "confidential": epic.confidential,
        "web_url": epic.web_url,
        "plans": [
            {"id": p.id, "title": p.title or p.id} for p in ctx.plans.plans() if p.epic == epic.ref
        ],
        "milestones": milestones,
        "closed": sum(m["closed"] for m in milestones),
        "total": sum(m["total"] for m in milestones),
    }


@router.get("/epics.json", summary="Epics as JSON")
def epics_json(ctx: Annotated[WebContext, Depends(get_ctx)]) -> dict[str, Any]:
    """Every epic of the tracker."""
    tracker = _tracker(ctx)
    return {
        "epics": [
            {"ref": e.ref, "title": e.title, "state": e.state, "labels": list(e.labels)}
            for e in tracker.list_epics()
        ]
    }


@router.get("/epics/{ref:path}.json", summary="Epic as JSON")
def epic_json(ref: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> dict[str, Any]:
    """The epic with its child issues grouped by milestone."""
    return epic_view(ctx, ref)


@router.get("/epics/{ref:path}", summary="Epic page", response_class=Response)
def epic_page(ref: str, request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    """The epic's child issues grouped by milestone."""
    return render(request, "epic.html", **epic_context(epic_view(ctx, ref)))


def epic_context(view: dict[str, Any]) -> dict[str, Any]:
    """The epic template's context."""
    return {"title": f"{view['title']} ({view['ref']})", "epic": view}


#: Cards per board column; the JSON and the page say how many there are in all.
COLUMN_LIMIT = 300


def board_view(
    ctx: WebContext, label: str | None, milestone: str | None, limit: int = COLUMN_LIMIT
) -> dict[str, Any]:
    """Issues in two columns, opened and closed, filtered like a label-scoped GitLab board."""
    _tracker(ctx)
    issues = list(issue_index(ctx).by_ref.values())
    labels = sorted({lb for i in issues for lb in i.labels})
    milestones = sorted({i.milestone for i in issues if i.milestone})
    if label:
        issues = [i for i in issues if label in i.labels]
    if milestone:
        issues = [i for i in issues if i.milestone == milestone]
    issues.sort(key=lambda i: (i.project, i.iid))
    return {
        "filters": {"label": label or "", "milestone": milestone or ""},
        "labels": labels,
        "milestones": milestones,
        "columns": [
            _column(state, [i for i in issues if i.state == state], limit)
            for state in ("opened", "closed")
        ],
    }


def _column(state: str, issues: list[Any], limit: int) -> dict[str, Any]:
    return {
        "state": state,
        "count": len(issues),
        "issues": [_card(i) for i in issues[:limit]],
    }


def _card(issue: Any) -> dict[str, Any]:
    """The issue, plus the plan whose work it is (from the marker sync wrote in it)."""
    card = issue_dict(issue)
    key = parse_marker(issue.description or "")
    card["plan"] = key[0] if key is not None else None
    return card


LabelQ = Annotated[str | None, Query(description="Only issues with this label.")]
LimitQ = Annotated[int, Query(ge=1, le=10_000, description="Cards per column.")]
MilestoneQ = Annotated[str | None, Query(description="Only issues in this milestone.")]


@router.get("/board.json", summary="Issue board as JSON")
def board_json(
    ctx: Annotated[WebContext, Depends(get_ctx)],
    label: LabelQ = None,
    milestone: MilestoneQ = None,
    limit: LimitQ = COLUMN_LIMIT,
) -> dict[str, Any]:
    """Issues in columns opened / closed."""
    return board_view(ctx, label or None, milestone or None, limit)


@router.get("/board", summary="Issue board", response_class=Response)
def board_page(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    label: LabelQ = None,
    milestone: MilestoneQ = None,
) -> Response:
    """Issues in columns opened / closed, filtered by label and milestone."""
    view = board_view(ctx, label or None, milestone or None)
    return render(request, "board.html", **board_context(ctx, view))


def board_context(ctx: WebContext, view: dict[str, Any]) -> dict[str, Any]:
    """The board template's context: the view and the titles of the plans its cards belong to."""
    titles: dict[str, str] = {}
    for card in (c for col in view["columns"] for c in col["issues"] if c["plan"]):
        plan = ctx.plans.get(card["plan"])
        if plan is not None:
            titles[plan.id] = plan.title or plan.id
    return {"title": "Board", "board": view, "plan_titles": titles}
