"""Tracker pages: the epics index, an epic with its issues by milestone, and the issue board
(open, one column per workflow label of the configured scope, closed)."""

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


def epics_view(ctx: WebContext) -> dict[str, Any]:
    """Every epic of the tracker with its child issues' progress and the plans naming it."""
    tracker = _tracker(ctx)
    index = issue_index(ctx)
    plans: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in ctx.plans.plans():
        if p.epic:
            plans[p.epic].append({"id": p.id, "title": p.title or p.id})
    out = []
    for e in tracker.list_epics():
        children = index.by_epic.get(e.ref, [])
        out.append(
            {
                "ref": e.ref,
                "title": e.title,
                "state": e.state,
                "labels": list(e.labels),
                "plans": plans.get(e.ref, []),
                "closed": sum(1 for i in children if i.state == "closed"),
                "total": len(children),
            }
        )
    return {"epics": out}


@router.get("/epics.json", summary="Epics as JSON")
def epics_json(ctx: Annotated[WebContext, Depends(get_ctx)]) -> dict[str, Any]:
    """Every epic of the tracker, with progress (closed/total child issues) and its plans."""
    return epics_view(ctx)


@router.get("/epics", summary="Epics", response_class=Response)
@router.get("/epics/", summary="Epics", response_class=Response, include_in_schema=False)
def epics_page(request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    """The epics with their progress."""
    return html_page(request, lambda: ("epics.html", {"title": "Epics", **epics_view(ctx)}))


def html_page(request: Request, build: Any) -> Response:
    """A page, or the HTML error page when building it raises (unknown ref, no tracker)."""
    try:
        template, context = build()
    except HTTPException as exc:
        return render(
            request,
            "error.html",
            status_code=exc.status_code,
            title=str(exc.status_code),
            status=exc.status_code,
            detail=exc.detail,
        )
    return render(request, template, **context)


@router.get("/epics/{ref:path}.json", summary="Epic as JSON")
def epic_json(ref: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> dict[str, Any]:
    """The epic with its child issues grouped by milestone."""
    return epic_view(ctx, ref)


@router.get("/epics/{ref:path}", summary="Epic page", response_class=Response)
def epic_page(ref: str, request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]) -> Response:
    """The epic's child issues grouped by milestone."""
    return html_page(request, lambda: ("epic.html", epic_context(epic_view(ctx, ref))))


def epic_context(view: dict[str, Any]) -> dict[str, Any]:
    """The epic template's context."""
    return {"title": f"{view['title']} ({view['ref']})", "epic": view}


#: Cards per board column; the JSON and the page say how many there are in all.
COLUMN_LIMIT = 300


def board_view(
    ctx: WebContext,
    label: str | None = None,
    milestone: str | None = None,
    limit: int = COLUMN_LIMIT,
    *,
    assignee: str | None = None,
    plan: str | None = None,
) -> dict[str, Any]:
    """Issues in columns: open, one per workflow label (``board_scope::*``), closed; filtered
    like a GitLab board by label, milestone, assignee and the plan whose work they are."""
    _tracker(ctx)
    scope = ctx.config.board_scope
    prefix = f"{scope}::"
    cards = [_card(i) for i in issue_index(ctx).by_ref.values()]
    labels = sorted({lb for c in cards for lb in c["labels"]})
    milestones = sorted({c["milestone"] for c in cards if c["milestone"]})
    assignees = sorted({a for c in cards for a in c["assignees"]})
    plans = sorted({c["plan"] for c in cards if c["plan"]})
    workflow = sorted({lb for lb in labels if lb.startswith(prefix)})
    if label:
        cards = [c for c in cards if label in c["labels"]]
    if milestone:
        cards = [c for c in cards if c["milestone"] == milestone]
    if assignee:
        cards = [c for c in cards if assignee in c["assignees"]]
    if plan:
        cards = [c for c in cards if c["plan"] == plan]
    cards.sort(key=lambda c: (c["project"], c["iid"]))
    lanes: dict[str | None, list[dict[str, Any]]] = {None: [], **{w: [] for w in workflow}}
    closed = []
    for card in cards:
        if card["state"] == "closed":
            closed.append(card)
            continue
        # An issue with two labels of the scope (GitLab allows only one) goes to the first.
        lane = next((lb for lb in card["labels"] if lb.startswith(prefix)), None)
        lanes[lane].append(card)
    columns = [_column("opened", None, "Open", lanes.pop(None), limit)]
    columns += [_column("opened", w, w[len(prefix) :], lanes[w], limit) for w in workflow]
    columns.append(_column("closed", None, "Closed", closed, limit))
    return {
        "scope": scope,
        "filters": {
            "label": label or "",
            "milestone": milestone or "",
            "assignee": assignee or "",
            "plan": plan or "",
        },
        "labels": labels,
        "milestones": milestones,
        "assignees": assignees,
        "plans": plans,
        "columns": columns,
    }


def _column(
    state: str, label: str | None, title: str, cards: list[dict[str, Any]], limit: int
) -> dict[str, Any]:
    return {
        "state": state,
        "label": label,
        "title": title,
        "count": len(cards),
        "issues": [
            {k: v for k, v in c.items() if k not in ("project", "iid")} for c in cards[:limit]
        ],
    }


def _card(issue: Any) -> dict[str, Any]:
    """The issue, plus the plan whose work it is (from the marker sync wrote in it)."""
    card = issue_dict(issue)
    key = parse_marker(issue.description or "")
    card["plan"] = key[0] if key is not None else None
    card["project"], card["iid"] = issue.project, issue.iid
    return card


LabelQ = Annotated[str | None, Query(description="Only issues with this label.")]
LimitQ = Annotated[int, Query(ge=1, le=10_000, description="Cards per column.")]
MilestoneQ = Annotated[str | None, Query(description="Only issues in this milestone.")]
AssigneeQ = Annotated[str | None, Query(description="Only issues assigned to this user.")]
PlanQ = Annotated[str | None, Query(description="Only issues of this plan's work items.")]


@router.get("/board.json", summary="Issue board as JSON")
def board_json(
    ctx: Annotated[WebContext, Depends(get_ctx)],
    label: LabelQ = None,
    milestone: MilestoneQ = None,
    limit: LimitQ = COLUMN_LIMIT,
    assignee: AssigneeQ = None,
    plan: PlanQ = None,
) -> dict[str, Any]:
    """Issues in columns: open, workflow labels, closed."""
    return board_view(
        ctx, label or None, milestone or None, limit, assignee=assignee or None, plan=plan or None
    )


@router.get("/board", summary="Issue board", response_class=Response)
def board_page(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    label: LabelQ = None,
    milestone: MilestoneQ = None,
    assignee: AssigneeQ = None,
    plan: PlanQ = None,
) -> Response:
    """Issues in columns (open, workflow labels, closed), filtered by label, milestone,
    assignee and plan."""
    return html_page(
        request,
        lambda: (
            "board.html",
            board_context(
                ctx,
                board_view(
                    ctx,
                    label or None,
                    milestone or None,
                    assignee=assignee or None,
                    plan=plan or None,
                ),
            ),
        ),
    )


def board_context(ctx: WebContext, view: dict[str, Any]) -> dict[str, Any]:
    """The board template's context: the view and the titles of the plans its cards belong to."""
    titles: dict[str, str] = {}
    for pid in view["plans"]:
        plan = ctx.plans.get(pid)
        if plan is not None:
            titles[plan.id] = plan.title or plan.id
    return {"title": "Board", "board": view, "plan_titles": titles}
