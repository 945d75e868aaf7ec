"""Review threads on plan sections: create, comment, resolve, and "feedback requested".

Every POST needs the CSRF token (form field ``csrf_token`` matching the browser's cookie).
Browsers are sent back to the plan page (303), to the thread they wrote to (``#thread-ID``)
with ``?posted=`` naming what was done, which the page shows as a status message; other
clients get JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from secplan.errors import NotFoundError, UsageError
from secplan.store import reviews
from secplan.store.reviews import MAX_BODY
from secplan.web import security
from secplan.web.app import WebContext, get_ctx
from secplan.web.data import section_anchors, thread_dict
from secplan.web.links import ServerLinks
from secplan.web.routes_plans import lookup

router = APIRouter()

# Bounded so an absurd id is a 422, not a database overflow.
ThreadId = Annotated[int, Path(ge=1, le=2**53, description="The review thread id.")]
CsrfField = Annotated[str, Form(description="The CSRF token from the page's forms.")]
BodyField = Annotated[str, Form(min_length=1, max_length=MAX_BODY, description="Comment text.")]


def _check_csrf(request: Request, token: str) -> None:
    if not security.csrf_ok(request, token):
        raise HTTPException(status_code=403, detail="invalid or missing CSRF token")


def _author(request: Request, given: str | None) -> str:
    # An authenticated user is who they signed in as; on an open loopback server people say.
    user = getattr(request.state, "user", None)
    if user and user != "token":
        return str(user)
    name = (given or "").strip()[:100]
    return name or (str(user) if user else "anonymous")


@contextmanager
def _user_errors() -> Iterator[None]:
    # The store validates too (empty after trimming, too long): that is the client's mistake.
    try:
        yield
    except UsageError as exc:
        raise HTTPException(status_code=422, detail=exc.message) from None


def _store(ctx: WebContext) -> Any:
    store = ctx.writable_store()
    if store is None:
        raise HTTPException(status_code=503, detail=ctx.store_error or "store unavailable")
    return store


def _done(
    request: Request, plan_id: str, fragment: str, payload: dict[str, Any], posted: str
) -> Response:
    ctx = get_ctx(request)
    ctx.reviews_version += 1  # cached pages showing threads are stale now
    if "text/html" in request.headers.get("accept", ""):
        # The plan's own address (folder plans end in '/'), its anchor quoted: a plan id or
        # anchor holding '?', '#' or spaces must not change the target.
        page = ServerLinks(ctx.plans.known).plan(plan_id)
        # The thread's id also goes in the query: the page shows the message in the thread,
        # where the browser lands (the fragment never reaches the server).
        thread = payload.get("thread", payload.get("id"))
        query = f"posted={posted}" + (f"&thread={thread}" if thread else "")
        target = f"{page}?{query}#{quote(fragment, safe='')}"
        return RedirectResponse(target, status_code=303)
    return JSONResponse(payload)


@router.post("/plans/{plan_id:path}/threads", summary="Start a review thread on a section")
def create_thread(
    plan_id: str,
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    section: Annotated[str, Form(max_length=255, description="The section anchor.")],
    body: BodyField,
    csrf_token: CsrfField,
    author: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Create a thread anchored to ``section`` of the plan, with its first comment."""
    _check_csrf(request, csrf_token)
    plan = lookup(ctx, plan_id)
    sec = plan.section(section)
    if sec is None and section not in plan.anchor_ids():
        raise HTTPException(status_code=422, detail=f"no section '{section}' in plan {plan.id}")
    store = _store(ctx)
    with _user_errors(), store.session() as session:
        thread = reviews.create_thread(
            session,
            plan.id,
            section,
            author=_author(request, author),
            body=body,
            section_title=sec.title if sec else section,
        )
        payload = thread_dict(thread, section_anchors(plan))
    return _done(request, plan.id, f"thread-{thread.id}", payload, "thread")


def _thread_plan(session: Any, thread_id: int) -> tuple[str, str]:
    try:
        thread = reviews.get_thread(session, thread_id)
    except NotFoundError:
        raise HTTPException(status_code=404, detail=f"no review thread {thread_id}") from None
    return thread.plan_id, thread.anchor


@router.post("/threads/{thread_id}/comments", summary="Reply to a review thread")
def add_comment(
    thread_id: ThreadId,
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    body: BodyField,
    csrf_token: CsrfField,
    author: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Add a comment to a thread."""
    _check_csrf(request, csrf_token)
    store = _store(ctx)
    with _user_errors(), store.session() as session:
        plan_id, _ = _thread_plan(session, thread_id)
        reviews.add_comment(session, thread_id, author=_author(request, author), body=body)
    payload = {"thread": thread_id, "ok": True}
    return _done(request, plan_id, f"thread-{thread_id}", payload, "reply")


@router.post("/threads/{thread_id}/resolve", summary="Resolve (or reopen) a review thread")
def resolve_thread(
    thread_id: ThreadId,
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    csrf_token: CsrfField,
    reopen: Annotated[bool, Form()] = False,
    author: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Mark a thread resolved (``reopen=true`` opens it again)."""
    _check_csrf(request, csrf_token)
    store = _store(ctx)
    with _user_errors(), store.session() as session:
        plan_id, _ = _thread_plan(session, thread_id)
        who = _author(request, author)
        if reopen:
            reviews.reopen_thread(session, thread_id)
        else:
            reviews.resolve_thread(session, thread_id, by=who)
    payload = {"thread": thread_id, "resolved": not reopen, "ok": True}
    return _done(
        request, plan_id, f"thread-{thread_id}", payload, "reopened" if reopen else "resolved"
    )


@router.post(
    # ``path``: anchors may hold '/' (which arrives decoded, however the form quoted it).
    "/plans/{plan_id:path}/sections/{anchor:path}/feedback",
    summary="Mark a section as needing feedback (or not)",
)
def section_feedback(
    plan_id: str,
    anchor: str,
    request: Request,
    ctx: Annotated[WebContext, Depends(get_ctx)],
    csrf_token: CsrfField,
    requested: Annotated[bool, Form()] = True,
    author: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Set or clear "feedback requested" on a section."""
    _check_csrf(request, csrf_token)
    plan = lookup(ctx, plan_id)
    if plan.section(anchor) is None:
        raise HTTPException(status_code=404, detail=f"no section '{anchor}' in plan {plan.id}")
    store = _store(ctx)
    with _user_errors(), store.session() as session:
        reviews.set_feedback_requested(
            session, plan.id, anchor, requested, by=_author(request, author)
        )
    payload = {"section": anchor, "feedback_requested": requested}
    return _done(request, plan.id, f"review-{anchor}", payload, "feedback")
