"""The catalog: every plan with status, epic, readiness and progress; filters; ``/plans.json``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

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


#: Rows per catalog page: a 10,000-plan handbook is shown (and linted) a page at a time.
PAGE_SIZE = 500

OffsetQ = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
LimitQ = Annotated[int, Query(ge=1, le=10_000, description="Rows per page.")]


@dataclass
class CatalogPage:
    """One page of catalog rows, with the counts around it."""

    rows: list[dict[str, Any]]
    matched: int  # plans passing the filters
    plans: list[Plan]  # every plan (for the filter choices)
    offset: int
    limit: int


def catalog_rows(
    ctx: WebContext,
    status: str | None = None,
    label: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> CatalogPage:
    """The rows that pass the filters, ``limit`` of them from ``offset``."""
    plans = ctx.plans.plans()
    wanted = (status or None, label or None, owner or None, q or None)
    matched = [p for p in plans if _matches(p, *wanted)]
    shown = matched[offset : offset + limit]
    index = issue_index(ctx)
    judged = ctx.plans.readiness(shown, open_thread_counts(ctx)) if shown else {}
    rows: list[dict[str, Any]] = []
    for plan in shown:
        readiness = judged.get(plan.id)
        rows.append(
            {
                "id": plan.id,
                "title": plan.title or plan.id,
                "status": plan.status,
                "epic": plan.epic,
                "owners": plan.owners,
                "labels": plan.labels,
                "path": plan.rel_path,
                "readiness": (
                    None
                    if readiness is None
                    else {"errors": readiness[0], "warnings": readiness[1]}
                ),
                "progress": index.progress(plan).to_json(),
                "resources": [{"title": r.title, "url": r.url} for r in plan.resources],
            }
        )
    return CatalogPage(rows, len(matched), plans, offset, limit)


def catalog_context(
    ctx: WebContext,
    page: CatalogPage,
    filters: dict[str, str],
    link: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """The catalog template's context for one page of rows (``link(offset)`` pages through)."""
    offset, limit = page.offset, page.limit
    # The department's planning at a glance: how many plans in each status (links filter).
    # Label, owner and status sets are computed once per load of the handbook, not per page.
    facets = ctx.plans.facets
    counts = facets.status_counts
    by_status = [(s, counts[s]) for s in STATUSES if counts[s]]
    by_status += sorted((s, n) for s, n in counts.items() if s not in STATUSES)
    return {
        "title": "Catalog",
        "rows": page.rows,
        "total": len(page.plans),
        "matched": page.matched,
        "first": offset + 1 if page.rows else 0,
        "last": offset + len(page.rows),
        "prev_link": link(max(0, offset - limit)) if link and offset > 0 else None,
        "next_link": link(offset + limit) if link and offset + limit < page.matched else None,
        "statuses": STATUSES,
        "by_status": by_status,
        "labels": facets.labels,
        "owners": facets.owners,
        "filters": filters,
        "errors": ctx.plans.errors(),
        "lint": ctx.plans.lints,
    }


def catalog_document(ctx: WebContext, page: CatalogPage) -> dict[str, Any]:
    """``/plans.json``: the rows of one page, the counts and the files that could not be read."""
    return {
        "plans": page.rows,
        "total": len(page.plans),
        "matched": page.matched,
        "offset": page.offset,
        "limit": page.limit,
        "errors": [
            {"path": e.rel_path, "code": e.code, "message": e.message, "line": e.line}
            for e in ctx.plans.errors()
        ],
    }


@router.get("/", summary="Catalog page", response_class=Response)
def catalog_page(
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    status: StatusQ = None,
    label: LabelQ = None,
    owner: OwnerQ = None,
    q: SearchQ = None,
    offset: OffsetQ = 0,
    limit: LimitQ = PAGE_SIZE,
) -> Response:
    """The catalog: a table of plans, filterable by status/label/owner and searchable by title."""
    page = catalog_rows(ctx, status, label, owner, q, offset, limit)
    filters = {"status": status or "", "label": label or "", "owner": owner or "", "q": q or ""}
    kept = {k: v for k, v in filters.items() if v}

    def link(new_offset: int) -> str:
        return "/?" + urlencode({**kept, "offset": new_offset, "limit": limit})

    return render(request, "catalog.html", **catalog_context(ctx, page, filters, link))


@router.get("/plans.json", summary="Catalog as JSON")
def catalog_json(
    ctx: Annotated[WebContext, Depends(get_ctx)],
    status: StatusQ = None,
    label: LabelQ = None,
    owner: OwnerQ = None,
    q: SearchQ = None,
    offset: OffsetQ = 0,
    limit: LimitQ = PAGE_SIZE,
) -> dict[str, Any]:
    """The catalog rows as JSON (same filters and paging as the page)."""
    return catalog_document(ctx, catalog_rows(ctx, status, label, owner, q, offset, limit))
