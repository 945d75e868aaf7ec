"""Issue pages: ``/issues/group/project/12`` (also ``/issues/{ref}`` with the ref quoted).

An issue page shows the issue as the tracker has it and, through the read model
(:mod:`secplan.sync.match`, via :class:`~secplan.web.data.TrackerView`), the plan item whose
issue it is, with a link to that item's section. An issue sync made for an item but no longer
credited to it (a duplicate, a conflict) says so instead of claiming the item.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from secplan.sync.desired import EPIC_ITEM, parse_marker
from secplan.tracker.base import TrackedIssue
from secplan.web.app import WebContext, get_ctx
from secplan.web.data import issue_dict, issue_index
from secplan.web.routes_tracker import html_page

router = APIRouter()


def ref_from_path(path: str) -> str:
    """``group/project/12`` -> ``group/project#12``; a ref given whole (``group/p#12``) as is."""
    if "#" in path:
        return path
    project, _, iid = path.rpartition("/")
    return f"{project}#{iid}" if project and iid.isdigit() else path


def plan_item_of(ctx: WebContext, issue: TrackedIssue) -> dict[str, Any] | None:
    """The plan item the read model credits with this issue, or what sync made it for."""
    owner = parse_marker(issue.description or "")
    if owner is None or owner[1] == EPIC_ITEM:
        return None
    plan_id, item_id = owner
    plan = ctx.plans.get(plan_id)
    out: dict[str, Any] = {
        "plan": plan_id,
        "plan_title": (plan.title or plan.id) if plan is not None else None,
        "item": item_id,
        "title": None,
        "section": None,
        "line": None,
        "credited": False,
    }
    if plan is None:
        return out
    report = issue_index(ctx).report(plan)
    for item in report.items:
        if item.ref == issue.ref and item.state is not None:
            out.update(
                item=item.id, title=item.title, section=item.section, line=item.line, credited=True
            )
            return out
    for item in report.items:  # marked for an item that is there, but another issue covers it
        if item.id == item_id:
            out.update(title=item.title, section=item.section, line=item.line)
    return out


def milestone_dues(ctx: WebContext) -> dict[str, str]:
    """Milestone title -> its due date (ISO), for the milestones the tracker dates."""
    tracker = ctx.tracker
    if tracker is None:
        return {}
    out: dict[str, str] = {}
    for m in tracker.list_milestones():
        if m.due is not None:
            out.setdefault(m.title, m.due.isoformat())
    return out


def issue_view(ctx: WebContext, ref: str, dues: dict[str, str] | None = None) -> dict[str, Any]:
    """The issue, its epic, milestone (with due date), plan item and notes. ``dues`` are the
    milestones' due dates when the caller read them already (the site builds every issue)."""
    tracker = ctx.tracker
    if tracker is None:
        raise HTTPException(status_code=503, detail=ctx.store_error or "tracker unavailable")
    view = issue_index(ctx)
    issue = view.by_ref.get(ref)
    if issue is None:
        raise HTTPException(status_code=404, detail=f"the tracker has no issue {ref}")
    data = issue_dict(issue)
    epic = view.actual.epics_by_ref.get(issue.epic) if issue.epic else None
    data["epic_title"] = epic.title if epic is not None else None
    if issue.milestone and dues is None:
        dues = milestone_dues(ctx)
    data["milestone_due"] = (dues or {}).get(issue.milestone or "")
    data["created_at"] = _iso(issue.created_at)
    data["closed_at"] = _iso(issue.closed_at)
    data["plan_item"] = plan_item_of(ctx, issue)
    data["notes"] = [
        {"author": n.author, "body": n.body, "created_at": _iso(n.created_at)}
        for n in tracker.notes(issue.ref)
    ]
    return data


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def issue_context(view: dict[str, Any]) -> dict[str, Any]:
    """The issue template's context."""
    return {"title": f"{view['title']} ({view['ref']})", "issue": view}


@router.get("/issues/{path:path}.json", summary="Issue as JSON")
def issue_json(path: str, ctx: Annotated[WebContext, Depends(get_ctx)]) -> dict[str, Any]:
    """The issue with its epic, milestone, the plan item it comes from, and its notes."""
    return issue_view(ctx, ref_from_path(path))


@router.get("/issues/{path:path}", summary="Issue page", response_class=Response)
def issue_page(
    path: str, request: Request, ctx: Annotated[WebContext, Depends(get_ctx)]
) -> Response:
    """The issue's page; an unknown ref gets the HTML 404 page."""
    ref = ref_from_path(path)
    return html_page(request, lambda: ("issue.html", issue_context(issue_view(ctx, ref))))
