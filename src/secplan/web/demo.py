"""The demo a newcomer runs (``make demo`` → ``secplan serve --demo``).

On first run it copies the example handbook into a directory it owns (``.secplan-demo/`` in the
current directory), then fills that copy's embedded tracker the way a team would have: the source
issues the plans name, promoted to epics; the plans applied (epic, milestones, issues); some
issues closed over the past weeks so progress shows; review threads on a few sections. Later runs
reuse it. Everything goes through the library APIs, never through subprocesses.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from secplan.errors import NotFoundError
from secplan.handbook import load_handbook
from secplan.model import Plan
from secplan.refs import parse_epic_ref, parse_issue_ref

if TYPE_CHECKING:
    from secplan.store.engine import Store
    from secplan.tracker.base import Tracker

DEMO_DIR = ".secplan-demo"
#: Written last: its presence means the demo database is complete.
READY_MARK = "demo-ready"
#: How far back the demo's invented history starts.
HISTORY = timedelta(days=42)
#: Title of the epics the demo invents to fill the numbering before a plan's named epic.
FILLER_EPIC = "Earlier security initiative"
#: Share of a plan's issues the demo closes, by plan status.
CLOSED_SHARE = {"implementing": 0.6, "implemented": 1.0, "ready": 0.25}


def example_handbook() -> Path:
    """The project's ``examples/handbook`` (next to the source tree, or in the current dir)."""
    candidates = [
        Path(__file__).resolve().parents[3] / "examples" / "handbook",
        Path.cwd() / "examples" / "handbook",
    ]
    for path in candidates:
        if path.is_dir():
            return path
    raise NotFoundError(
        "the example handbook (examples/handbook) was not found",
        hint="Run the demo from a checkout of the secplan repository.",
    )


def prepare_demo(base: Path | None = None, *, reset: bool = False) -> Path:
    """Make sure the demo handbook and its filled tracker exist; return the handbook root."""
    workdir = (base or Path.cwd()) / DEMO_DIR
    root = workdir / "handbook"
    if reset and workdir.exists():
        shutil.rmtree(workdir)
    if (workdir / READY_MARK).exists() and root.is_dir():
        return root
    if workdir.exists():
        shutil.rmtree(workdir)  # a half-made demo from an interrupted run: start again
    workdir.mkdir(parents=True)
    (workdir / ".gitignore").write_text("*\n", encoding="utf-8")
    shutil.copytree(example_handbook(), root, ignore=shutil.ignore_patterns(".secplan"))
    fill_tracker(root)
    (workdir / READY_MARK).write_text("ok\n", encoding="utf-8")
    return root


def _iid(ref: str | None, kind: str) -> int:
    parsed = (parse_epic_ref if kind == "epic" else parse_issue_ref)(ref or "")
    return parsed.iid if parsed is not None and parsed.iid is not None else 10**9


def fill_tracker(root: Path) -> None:
    """Source issues, epics by promotion, sync, closed issues, review threads."""
    from secplan.sync.apply import apply_plans
    from secplan.tracker import open_backend
    from secplan.tracker.local import LocalTracker
    from secplan.tracker.local_history import spread_history

    handbook = load_handbook(root)
    plans = handbook.plans
    with open_backend(handbook.config, author="demo") as backend:
        tracker = backend.tracker
        assert isinstance(tracker, LocalTracker)  # the demo fills the embedded tracker
        _create_sources(tracker, plans)
        # Promote in the order of the epic iids the plans name, so the refs come out the same.
        for plan in sorted(plans, key=lambda p: _iid(p.epic, "epic")):
            ref = parse_epic_ref(plan.epic or "")
            if ref is None or tracker.get_epic(plan.epic or "") is not None:
                continue
            if plan.source and tracker.get_issue(plan.source) is not None:
                tracker.promote_issue(plan.source)
            # A plan that names an epic but no source issue: epics are numbered in creation
            # order, so epics no plan names fill the gap, then comes the plan's own epic.
            while tracker.get_epic(str(ref)) is None:
                made = max((e.iid for e in tracker.list_epics(ref.path)), default=0)
                if made + 1 < ref.iid:
                    tracker.create_epic(ref.path, f"{FILLER_EPIC} {made + 1}")
                    continue
                if tracker.create_epic(ref.path, plan.title or plan.id).iid >= ref.iid:
                    break
        apply_plans(tracker, backend.state(), plans, handbook.config, all_plans=True)
        _close_some(tracker, plans)
        _start_some(tracker)
        spread_history(backend.store, HISTORY)
        _add_threads(backend.store, plans)


def _create_sources(tracker: Tracker, plans: list[Plan]) -> None:
    wanted: dict[str, dict[int, Plan]] = {}
    for plan in plans:
        ref = parse_issue_ref(plan.source or "")
        if ref is not None and ref.iid is not None:
            wanted.setdefault(ref.path, {})[ref.iid] = plan
    for project, by_iid in wanted.items():
        # Issues are numbered in creation order; fill gaps so each plan's source gets its iid.
        for iid in range(1, max(by_iid) + 1):
            if tracker.get_issue(f"{project}#{iid}") is not None:
                continue
            source_of = by_iid.get(iid)
            if source_of is None:
                tracker.create_issue(project, f"Triage: security request {iid}")
                continue
            tracker.create_issue(
                project,
                source_of.title or source_of.id,
                description=(
                    f"Proposal: {source_of.title}. We need a plan for this; "
                    "this issue will be promoted to the plan's epic."
                ),
                labels=list(source_of.labels),
            )


def _close_some(tracker: Tracker, plans: list[Plan]) -> None:
    """Close work so progress shows: most of an implementing plan, the first steps of others."""
    from secplan.sync.desired import EPIC_ITEM, parse_marker

    status = {p.id: p.status for p in plans}
    by_plan: dict[str, list[str]] = {}
    for issue in tracker.list_issues(state="opened"):
        key = parse_marker(issue.description or "")
        if key is not None and key[1] != EPIC_ITEM:
            by_plan.setdefault(key[0], []).append(issue.ref)
    for plan_id, refs in by_plan.items():
        refs.sort(key=lambda r: int(r.rsplit("#", 1)[1]))
        share = CLOSED_SHARE.get(status.get(plan_id, ""))
        for ref in refs[: int(len(refs) * (share or 0.0))]:
            tracker.close_issue(ref, note="Done (demo data).")


#: Board columns the demo's open work sits in (scoped labels, as a team's board has them).
WORKFLOW = ("workflow::doing", "workflow::doing", "workflow::review")


def _start_some(tracker: Tracker) -> None:
    """Put the first open issues of the plans in the board's workflow columns."""
    from secplan.sync.desired import EPIC_ITEM, parse_marker
    from secplan.tracker.base import IssueUpdate

    work = [
        i
        for i in tracker.list_issues(state="opened")
        if (key := parse_marker(i.description or "")) is not None and key[1] != EPIC_ITEM
    ]
    work.sort(key=lambda i: (i.project, i.iid))
    for issue, label in zip(work, WORKFLOW, strict=False):
        tracker.update_issue(issue.ref, IssueUpdate(add_labels=[label]))


def _add_threads(store: Store, plans: list[Plan]) -> None:
    from secplan.store import reviews

    in_review = [p for p in plans if p.status == "review" and len(p.sections) > 1]
    ready = [p for p in plans if p.status == "ready" and len(p.sections) > 1]
    with store.session() as s:
        for plan in in_review[:1]:
            section = plan.sections[1]
            t = reviews.create_thread(
                s,
                plan.id,
                section.anchor,
                section.title,
                "jonas.weber",
                "Which scanners feed this? If the container scanner is missing, the SLA numbers "
                "will look better than they are.",
            )
            reviews.add_comment(
                s, t.id, "li.wei", "Good point: container scanning is in scope, adding it."
            )
            reviews.set_feedback_requested(s, plan.id, section.anchor, True, "li.wei")
            # A thread on a section the plan no longer has: shown as outdated, not lost.
            if "scope" not in plan.anchor_ids():
                reviews.create_thread(
                    s,
                    plan.id,
                    "scope",
                    "Scope",
                    "samira.haddad",
                    "Are findings in archived projects in scope? They still count against "
                    "the SLA in the vulnerability report.",
                )
        for plan in ready[:1]:
            section = plan.sections[-1]
            t = reviews.create_thread(
                s,
                plan.id,
                section.anchor,
                section.title,
                "samira.haddad",
                "Please link the runbook for emergency revocation here.",
            )
            reviews.add_comment(s, t.id, "amara.okafor", "Linked. Resolving.")
            reviews.resolve_thread(s, t.id, "amara.okafor")
