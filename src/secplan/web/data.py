"""What the pages show from the tracker: issues per plan and item, progress, review threads.

Everything here degrades to "nothing known" when the store is unavailable, so the plan pages
keep working on a handbook that has never been synced.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy.exc import SQLAlchemyError

from secplan.config import Config
from secplan.errors import SecplanError
from secplan.model import Plan
from secplan.store.reviews import Thread
from secplan.sync.actual import Actual
from secplan.sync.coverage import PlanCoverage, plan_report
from secplan.sync.desired import DesiredPlan, desired_for_plan
from secplan.sync.status import Progress, progress_of
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
class TrackerView:
    """One snapshot of the tracker for the pages, read in a few queries and matched to the
    plans by the same read model as ``plan``, ``coverage`` and ``status``
    (:mod:`secplan.sync.match`), so every page names the same issue for an item."""

    actual: Actual = field(default_factory=Actual)
    by_epic: dict[str, list[TrackedIssue]] = field(default_factory=dict)
    config: Config | None = None
    _desired: dict[str, tuple[Plan, DesiredPlan | None]] = field(default_factory=dict)
    _reports: dict[str, tuple[Plan, PlanCoverage]] = field(default_factory=dict)

    @property
    def by_ref(self) -> dict[str, TrackedIssue]:
        """Every issue by ref."""
        return self.actual.issues_by_ref

    def desired(self, plan: Plan) -> DesiredPlan | None:
        """The plan as sync sees it (None when sync cannot place it), cached per plan object."""
        hit = self._desired.get(plan.id)
        if hit is not None and hit[0] is plan:
            return hit[1]
        d: DesiredPlan | None = None
        if self.config is not None:
            try:
                d = desired_for_plan(plan, self.config)
            except SecplanError:
                d = None
        self._desired[plan.id] = (plan, d)
        return d

    def report(self, plan: Plan) -> PlanCoverage:
        """What ``secplan coverage`` says of the plan."""
        hit = self._reports.get(plan.id)
        if hit is not None and hit[0] is plan:
            return hit[1]
        pc = plan_report(plan, self.actual, self.desired(plan))
        self._reports[plan.id] = (plan, pc)
        return pc

    def for_plan(self, plan: Plan) -> dict[str, TrackedIssue]:
        """item id -> the issue credited to it."""
        by_ref = self.actual.issues_by_ref
        return {
            i.id: by_ref[i.ref]
            for i in self.report(plan).items
            if i.ref is not None and i.state is not None and i.ref in by_ref
        }

    def plan_issues(self, plan: Plan) -> dict[str, TrackedIssue]:
        """ref -> issue of the plan's items (what its burn-up chart counts)."""
        return {i.ref: i for i in self.for_plan(plan).values()}

    def progress(self, plan: Plan) -> Progress:
        """Done/total work items, as ``secplan status`` counts them."""
        return progress_of(self.report(plan))


#: Seconds a tracker snapshot is reused when no watcher thread refreshes it (tests, builds).
INDEX_TTL = 1.0


def read_tracker_view(ctx: WebContext) -> TrackerView | None:
    """A fresh snapshot: one ``iter_issues``, one ``list_epics`` and the sync records."""
    tracker = ctx.tracker
    state = ctx.sync_state()
    if tracker is None or state is None:
        return None
    view = TrackerView(config=ctx.config)
    by_epic: dict[str, list[TrackedIssue]] = defaultdict(list)
    for issue in tracker.iter_issues(state="all"):
        view.actual.add_issue(issue)
        if issue.epic:
            by_epic[issue.epic].append(issue)
    for epic in tracker.list_epics():
        view.actual.add_epic(epic)
    view.actual.records = state.load()
    view.by_epic = dict(by_epic)
    return view


def _fingerprint(view: TrackerView) -> str:
    actual = view.actual
    digest = hashlib.sha256()
    for ref in sorted(actual.issues_by_ref):
        digest.update(repr(actual.issues_by_ref[ref]).encode())
    for ref in sorted(actual.epics_by_ref):
        digest.update(repr(actual.epics_by_ref[ref]).encode())
    for key in sorted(actual.records, key=repr):
        digest.update(repr((key, actual.records[key])).encode())
    return digest.hexdigest()


def _install(ctx: WebContext, view: TrackerView) -> TrackerView:
    """Keep ``view`` as the snapshot; an unchanged tracker keeps the old one (and its
    per-plan caches and the page cache's version)."""
    print_ = _fingerprint(view)
    old = ctx.index_cache
    if old is not None and old[2] == print_:
        ctx.index_cache = (time.monotonic(), old[1], print_)
        kept: TrackerView = old[1]
        return kept
    ctx.index_cache = (time.monotonic(), view, print_)
    ctx.tracker_version += 1
    return view


#: Seconds between reads of a tracker whose changes cannot be seen on disk (not one SQLite file).
REMOTE_INTERVAL = 10.0


def _database_stamp(ctx: WebContext) -> tuple[tuple[int, int] | None, ...] | None:
    """(mtime, size) of the SQLite database and its WAL, or None when the store is not one file.

    A write by ``secplan apply`` (or this server) changes one of them, so an unchanged stamp
    means the snapshot is still right and the watcher need not read every issue again.
    """
    store = ctx.store
    engine = getattr(store, "engine", None)
    if engine is None or engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    path = Path(engine.url.database)
    out: list[tuple[int, int] | None] = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            st = candidate.stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


@degrades(lambda: None)
def refresh_tracker(ctx: WebContext) -> None:
    """Read the tracker again (the watcher thread's job, once per scan) when it may have
    changed: its SQLite file changed, or ``REMOTE_INTERVAL`` passed for other stores."""
    stamp = _database_stamp(ctx)
    if ctx.index_cache is not None:
        if stamp is not None and stamp == ctx.tracker_stamp:
            return
        if stamp is None and time.monotonic() - ctx.index_cache[0] < REMOTE_INTERVAL:
            return
    ctx.tracker_stamp = stamp
    view = read_tracker_view(ctx)
    with ctx.index_lock:
        if view is None:
            if ctx.index_cache is not None:
                ctx.index_cache = None
                ctx.tracker_version += 1
            return
        _install(ctx, view)


@degrades(TrackerView)
def issue_index(ctx: WebContext) -> TrackerView:
    """The tracker snapshot all pages share.

    While the watcher thread runs it is the one the last scan read (requests never read the
    tracker); otherwise it is read again when older than ``INDEX_TTL``.
    """
    hit = ctx.index_cache
    if ctx.plans.watching:
        return hit[1] if hit is not None else TrackerView(config=ctx.config)
    with ctx.index_lock:
        hit = ctx.index_cache
        if hit is not None and time.monotonic() - hit[0] < INDEX_TTL:
            cached: TrackerView = hit[1]
            return cached
        view = read_tracker_view(ctx)
        if view is None:
            return TrackerView(config=ctx.config)
        return _install(ctx, view)


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
