"""The roadmap: milestones on a timeline with due dates and progress, per plan and overall."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from secplan.web.app import WebContext, get_ctx, render
from secplan.web.roadmap import roadmap_view, timeline

router = APIRouter()

PlanQ = Annotated[str | None, Query(description="Only this plan's milestones (a plan id).")]


def _view(ctx: WebContext, plan: str | None) -> dict[str, Any]:
    if plan and ctx.plans.get(plan) is None:
        raise HTTPException(status_code=404, detail=f"no plan '{plan}'")
    return roadmap_view(ctx, plan or None)


def roadmap_context(ctx: WebContext, view: dict[str, Any], today: date) -> dict[str, Any]:
    """The roadmap template's context: the view, its timeline layout, the plan's title."""
    plan = ctx.plans.get(view["plan"]) if view["plan"] else None
    title = f"Roadmap: {plan.title or plan.id}" if plan is not None else "Roadmap"
    return {
        "title": title,
        "roadmap": view,
        "timeline": timeline(view["milestones"], today),
        "plan_titles": {p["id"]: p["title"] for p in view["plans"]},
        "all_plans": sorted(
            ((p.id, p.title or p.id) for p in ctx.plans.plans() if p.milestones),
            key=lambda t: t[1].lower(),
        ),
    }


@router.get("/roadmap.json", summary="Roadmap as JSON")
def roadmap_json(
    ctx: Annotated[WebContext, Depends(get_ctx)], plan: PlanQ = None
) -> dict[str, Any]:
    """Milestones by due date with start, state, plans and progress (done/total items)."""
    return _view(ctx, plan)


@router.get("/roadmap", summary="Roadmap", response_class=Response)
def roadmap_page(
    request: Request, ctx: Annotated[WebContext, Depends(get_ctx)], plan: PlanQ = None
) -> Response:
    """Milestones on a timeline, with due dates and progress; ``?plan=`` for one plan."""
    try:
        view = _view(ctx, plan)
    except HTTPException as exc:
        return render(
            request, "error.html", status_code=404, title="404", status=404, detail=exc.detail
        )
    return render(request, "roadmap.html", **roadmap_context(ctx, view, date.today()))
