"""The catalog: every plan with status, epic, readiness and progress; filters; ``/plans.json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from secplan.model import STATUSES, Plan
from secplan.web.app import WebContext, get_ctx, render
from secplan.web.data import issue_index, open_thread_counts

router = APIRouter()

StatusQ = Annotated[str | None, Query(description="Only plans with this status.")]
LabelQ = Annotated[str | None, Query(description="Only plans with this label.")]
OwnerQ = Annotated[str | None, Query(description="Only plans this person owns.")]
SearchQ = Annotated[str | None, Query(description="Words that must all appear in the title.")]


def _matches(plan: Plan, status: str | None, label: str | None, owner: str | None, q: str | None):
    if status and plan.status != status:
        return False
    if label and label not in plan.labels:
        return False
    if owner and owner.lstrip("@") not in [o.lstrip("@") for o in plan.owners]:
        return False
    if q:
        title = (plan.title or plan.id).lower()
        return all(word in title or word in plan.id.lower() for word in q.lower().split())
    return True


def catalog_rows(
    ctx: WebContext,
    status: str | None = None,
    label: str | None = None,
    owner: str | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], list[Plan]]:
    """One dict per plan that passes the filters, plus every plan (for the filter choices)."""
    plans = ctx.plans.plans()
    index = issue_index(ctx)
    shown = [
        p for p in plans if _matches(p, status or None, label or None, owner or None, q or None)
    ]
    judged = ctx.plans.readiness(shown, open_thread_counts(ctx))
    rows: list[dict[str, Any]] = []
    for plan in shown:
        readiness = judged.get(plan.id)
        progress = index.progress(plan)
        rows.append(
            {
                "id": plan.id,
                "title": plan.title or plan.id,
                "status": plan.status,
                "epic": plan.epic,
                "owners": list(plan.owners),
                "labels": list(plan.labels),
                "path": plan.rel_path,
                "readiness": (
                    None
                    if readiness is None
                    else {"errors": readiness[0], "warnings": readiness[1]}
                ),
                "progress": progress.as_dict(),
                "resources": [{"title": r.title, "url": r.url} for r in plan.resources],
            }
        )
    return rows, plans


@router.get("/", summary="Catalog page", response_class=Response)
def catalog_page(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    status: StatusQ = None,
    label: LabelQ = None,
    owner: OwnerQ = None,
    q: SearchQ = None,
) -> Response:
    """The catalog: a table of plans, filterable by status/label/owner and searchable by title."""
    rows, plans = catalog_rows(ctx, status, label, owner, q)
    return render(
        request,
        "catalog.html",
        title="Catalog",
        rows=rows,
        total=len(plans),
        statuses=STATUSES,
        labels=sorted({label for p in plans for label in p.labels}),
        owners=sorted({o for p in plans for o in p.owners}),
        filters={"status": status or "", "label": label or "", "owner": owner or "", "q": q or ""},
        errors=ctx.plans.errors(),
        lint=ctx.plans.lints,
    )


@router.get("/plans.json", summary="Catalog as JSON")
def catalog_json(
    ctx: Annotated[WebContext, Depends(get_ctx)],
    status: StatusQ = None,
    label: LabelQ = None,
    owner: OwnerQ = None,
    q: SearchQ = None,
) -> dict[str, Any]:
    """The catalog rows as JSON (same filters as the page)."""
    rows, plans = catalog_rows(ctx, status, label, owner, q)
    return {
        "plans": rows,
        "total": len(plans),
        "errors": [
            {"path": e.rel_path, "code": e.code, "message": e.message, "line": e.line}
            for e in ctx.plans.errors()
        ],
    }
