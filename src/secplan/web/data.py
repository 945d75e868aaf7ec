"""What the pages show from the tracker: issues per plan and item, progress, review threads.

Everything here degrades to "nothing known" when the store is unavailable, so the plan pages
keep working on a handbook that has never been synced.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy.exc import SQLAlchemyError

from secplan.errors import SecplanError
from secplan.model import Plan
from secplan.store.reviews import Thread
from secplan.sync.desired import EPIC_ITEM, parse_marker
from secplan.sync.status import Progress
from secplan.tracker.base import TrackedIssue
from secplan.web.app import WebContext

log = logging.getLogger("secplan.web")
P = ParamSpec("P")
T = TypeVar("T")


def degrades(default: Callable[[], Any]) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A database failure turns into "nothing known" (logged), so plan pages still render."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except (SQLAlchemyError, SecplanError) as exc:
                log.warning("tracker data unavailable in %s: %s", fn.__name__, exc)
                return cast(T, default())

        return inner

    return wrap


@dataclass
class IssueIndex:
    """Every issue of the tracker, indexed by the plan/item markers sync put in them."""

    by_plan: dict[str, dict[str, TrackedIssue]] = field(default_factory=dict)
    by_ref: dict[str, TrackedIssue] = field(default_factory=dict)
    by_epic: dict[str, list[TrackedIssue]] = field(default_factory=dict)

    def for_plan(self, plan: Plan) -> dict[str, TrackedIssue]:
        """item id -> issue, from sync's markers and from refs written on the items."""
        found = dict(self.by_plan.get(plan.id, {}))
        for item in plan.items:
            if item.id not in found and item.ref and item.ref in self.by_ref:
                found[item.id] = self.by_ref[item.ref]
        return found

    def plan_issues(self, plan: Plan) -> dict[str, TrackedIssue]:
        """ref -> issue for the plan: its items' issues and its epic's children."""
        issues: dict[str, TrackedIssue] = {i.ref: i for i in self.for_plan(plan).values()}
        if plan.epic:
            for issue in self.by_epic.get(plan.epic, []):
                issues.setdefault(issue.ref, issue)
        return issues

    def progress(self, plan: Plan) -> Progress:
        """Closed/total of the plan's issues (see :meth:`plan_issues`)."""
        issues = self.plan_issues(plan)
        return Progress(
            closed=sum(1 for i in issues.values() if i.state == "closed"), total=len(issues)
        )


#: Seconds an issue index is reused; page loads within this window share one query.
INDEX_TTL = 1.0


@degrades(IssueIndex)
def issue_index(ctx: WebContext) -> IssueIndex:
    """All issues, grouped by plan, item and epic (one query, reused for ``INDEX_TTL``)."""
    tracker = ctx.tracker
    if tracker is None:
        return IssueIndex()
    with ctx.index_lock:
        hit = ctx.index_cache
        if hit is not None and time.monotonic() - hit[0] < INDEX_TTL:
            return hit[1]
        index = IssueIndex()
        by_plan: dict[str, dict[str, TrackedIssue]] = defaultdict(dict)
        by_epic: dict[str, list[TrackedIssue]] = defaultdict(list)
        for issue in tracker.list_issues(state="all"):
            index.by_ref[issue.ref] = issue
            if issue.epic:
                by_epic[issue.epic].append(issue)
            key = parse_marker(issue.description)
            if key is not None and key[1] != EPIC_ITEM:
                by_plan[key[0]][key[1]] = issue
        index.by_plan = dict(by_plan)
        index.by_epic = dict(by_epic)
        ctx.index_cache = (time.monotonic(), index)
        return index


def issue_dict(issue: TrackedIssue) -> dict[str, Any]:
    """JSON shape of an issue."""
    return {
        "ref": issue.ref,
        "title": issue.title,
        "state": issue.state,
        "labels": list(issue.labels),
        "milestone": issue.milestone,
        "assignees": list(issue.assignees),
        "confidential": issue.confidential,
        "epic": issue.epic,
        "web_url": issue.web_url,
    }


@degrades(list)
def threads_for(ctx: WebContext, plan: Plan) -> list[dict[str, Any]]:
    """Review threads of a plan as dicts; ``outdated`` when their section anchor is gone."""
    store = ctx.store
    if store is None:
        return []
    from secplan.store import reviews

    anchors = section_anchors(plan)
    out: list[dict[str, Any]] = []
    with store.read_session() as session:
        for thread in reviews.list_threads(session, plan.id):
            out.append(thread_dict(thread, anchors))
    return out


def section_anchors(plan: Plan) -> set[str]:
    """Anchors a review thread may stay on: sections and every other anchor of the plan."""
    return plan.anchor_ids() | {s.anchor for s in plan.sections}


def thread_dict(thread: Thread, anchors: set[str]) -> dict[str, Any]:
    """JSON shape of a review thread; ``outdated`` when its anchor is not in ``anchors``."""
    comments = [
        {"id": c.id, "author": c.author, "body": c.body, "created_at": _iso(c.created_at)}
        for c in thread.comments
    ]
    return {
        "id": thread.id,
        "section": thread.anchor,
        "section_title": thread.section_title or thread.anchor,
        "author": thread.author,
        "created_at": _iso(thread.created_at),
        "resolved": thread.resolved,
        "resolved_by": thread.resolved_by,
        "outdated": thread.anchor not in anchors,
        "comments": comments,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


@degrades(dict)
def feedback_flags(ctx: WebContext, plan: Plan) -> dict[str, bool]:
    """section anchor -> True where the author asked for feedback."""
    store = ctx.store
    if store is None:
        return {}
    from secplan.store import reviews

    with store.read_session() as session:
        return dict(reviews.feedback_requested(session, plan.id))


@degrades(dict)
def open_thread_counts(ctx: WebContext) -> dict[str, int]:
    """plan id -> unresolved review threads (empty without a store)."""
    store = ctx.store
    if store is None:
        return {}
    from secplan.store import reviews

    with store.read_session() as session:
        return dict(reviews.open_thread_counts(session))
