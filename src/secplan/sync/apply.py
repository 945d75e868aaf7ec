"""Plan and apply: compute the changes for a set of plans, and carry them out.

``apply`` is crash-safe and idempotent:

- it runs under the apply lock (:mod:`secplan.sync.lock`), so two applies never create at once;
- it reads the tracker's state (by marker) *under the lock*, so whatever an earlier, killed apply
  created is found and never created twice; the marker is part of the create call itself, so
  there is no moment at which an object exists without it;
- it records what it pushed after every object, so a kill loses at most the bookkeeping of the
  object in flight, which the next run rebuilds from the marker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from secplan.config import Config
from secplan.errors import SecplanError, TrackerError
from secplan.model import Plan
from secplan.redact import redact
from secplan.sync.actual import Actual, fetch_actual
from secplan.sync.changes import ACTIONS, Change, PlanDiff
from secplan.sync.desired import (
    EPIC_ITEM,
    DesiredEpic,
    DesiredIssue,
    DesiredMilestone,
    DesiredPlan,
    content_hash,
    desired_for_plan,
)
from secplan.sync.diff import PENDING_EPIC, diff_plans
from secplan.sync.lifecycle import truth_mode
from secplan.sync.lock import apply_lock
from secplan.sync.shared import shared_milestones
from secplan.sync.state import StoreState, SyncRecord, SyncState
from secplan.tracker.base import EpicUpdate, IssueUpdate, MilestoneUpdate, TrackedIssue, Tracker

#: Actions that write to the tracker.
WRITE_ACTIONS = frozenset({"create", "update"})
#: Parse problems that make a plan unfit to sync.
BLOCKING_CODES = frozenset({"SP106"})


@dataclass
class SyncPlan:
    """The outcome of ``secplan plan``: one :class:`PlanDiff` per plan."""

    diffs: list[PlanDiff]
    desired: dict[str, DesiredPlan] = field(default_factory=dict)
    actual: Actual | None = None

    @property
    def changes(self) -> list[Change]:
        """Every change, plan by plan."""
        return [c for d in self.diffs for c in d.changes]

    @property
    def conflicts(self) -> list[str]:
        """Conflicts the user must resolve in the plans (each reported once)."""
        return list(dict.fromkeys(c for d in self.diffs for c in d.conflicts))

    def pending(self) -> list[Change]:
        """Changes that write to the tracker."""
        return [c for c in self.changes if c.action in WRITE_ACTIONS]

    def counts(self) -> dict[str, int]:
        """Number of changes per action."""
        out: dict[str, int] = dict.fromkeys(ACTIONS, 0)
        for c in self.changes:
            out[c.action] += 1
        return out


@dataclass
class ApplyResult:
    """What ``apply`` did."""

    plan: SyncPlan
    done: list[Change] = field(default_factory=list)  # creates/updates carried out (refs set)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    writes: int = 0  # tracker write calls
    epics: dict[str, str] = field(default_factory=dict)  # plan id -> epic ref (managed/named)
    issues: dict[tuple[str, str], str] = field(default_factory=dict)  # (plan, item) -> ref
    completed: list[str] = field(default_factory=list)  # plans carried out to their end
    interrupted: bool = False  # Ctrl+C stopped it; only ``completed`` plans are whole

    @property
    def conflicts(self) -> list[str]:
        """Conflicts the user must resolve in the plans (each reported once)."""
        return self.plan.conflicts

    @property
    def ok(self) -> bool:
        """Everything that should be written was written, no plan was skipped, and no conflict
        keeps the tracker from matching the plans."""
        return not self.failed and not any(d.errors or d.conflicts for d in self.plan.diffs)


class ApplyInterrupted(KeyboardInterrupt):
    """Ctrl+C while apply was writing: ``result`` is what was done up to then, so the caller
    can still write back the refs of the plans in ``result.completed``. Everything written is
    already recorded or carries its marker, so the next apply finds it and goes on."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__("apply interrupted")
        self.result = result


def _desired(plans: Sequence[Plan], config: Config) -> tuple[list[DesiredPlan], list[PlanDiff]]:
    """Desired state per plan; plans that cannot be synced become diffs holding only errors."""
    good: list[DesiredPlan] = []
    bad: list[PlanDiff] = []
    for plan in plans:
        blocking = [d for d in plan.diagnostics if d.code in BLOCKING_CODES]
        try:
            if blocking:
                raise SecplanError(blocking[0].message, path=plan.rel_path, line=blocking[0].line)
            good.append(desired_for_plan(plan, config))
        except SecplanError as exc:
            pd = PlanDiff(plan.id, plan.rel_path, plan.status, truth_mode(plan))
            pd.errors.append(exc.message + (f" ({exc.hint})" if exc.hint else ""))
            bad.append(pd)
    return good, bad


def preflight(tracker: Tracker, plans: Sequence[DesiredPlan]) -> None:
    """Check every project and group the plans use before reading or writing anything: all
    problems at once, and nothing half-done because the fifth project was not writable."""
    problems = tracker.check_access(
        sorted({dp.project for dp in plans}), sorted({dp.group for dp in plans})
    )
    if not problems:
        return
    lines = [f"{p.kind} {p.path}: {p.message}" for p in problems]
    hints = sorted({p.hint for p in problems if p.hint})
    raise TrackerError(
        "the tracker cannot be used for these plans:\n" + "\n".join(f"  - {x}" for x in lines),
        hint=" ".join(hints) or None,
    )


def compute_plan(
    tracker: Tracker,
    state: SyncState,
    plans: Sequence[Plan],
    config: Config,
    *,
    create_epic: bool = False,
    all_plans: bool = False,
    context: Sequence[Plan] = (),
) -> SyncPlan:
    """What ``apply`` would do for ``plans`` (``all_plans``: they are the whole handbook, so
    issues of removed plans are reported as orphans). ``context`` are the other plans of the
    handbook: their milestone declarations count when plans disagree on a shared milestone, so
    syncing one plan never undoes another. Reads only."""
    good, bad = _desired(plans, config)
    preflight(tracker, good)
    keys = {(m.group, m.title) for dp in good for m in dp.milestones}
    shared = shared_milestones([dp.plan for dp in good] + list(context), config, keys)
    actual = fetch_actual(tracker, good, state, all_plans=all_plans)
    diffs = diff_plans(good, actual, create_epic=create_epic, all_plans=all_plans, shared=shared)
    order = {p.id: i for i, p in enumerate(plans)}
    diffs = sorted(diffs + bad, key=lambda d: (order.get(d.plan, len(order)), d.plan))
    return SyncPlan(diffs=diffs, desired={d.id: d for d in good}, actual=actual)


def apply_plans(
    tracker: Tracker,
    state: StoreState,
    plans: Sequence[Plan],
    config: Config,
    *,
    create_epic: bool = False,
    all_plans: bool = False,
    on_change: Callable[[Change], None] | None = None,
    on_planned: Callable[[SyncPlan], None] | None = None,
    context: Sequence[Plan] = (),
    on_applied: Callable[[ApplyResult], None] | None = None,
) -> ApplyResult:
    """Bring the tracker in line with ``plans`` under the store's apply lock; returns what was
    done (``context``: the handbook's other plans, see :func:`compute_plan`).

    ``on_applied`` runs with the result while the lock is still held, also after Ctrl+C
    (``result.interrupted``), so write-back never edits a plan while another apply reads it.
    """
    with apply_lock(state.store):
        sync_plan = compute_plan(
            tracker,
            state,
            plans,
            config,
            create_epic=create_epic,
            all_plans=all_plans,
            context=context,
        )
        if on_planned is not None:
            on_planned(sync_plan)
        try:
            result = _execute(tracker, sync_plan, state, on_change)
        except ApplyInterrupted as stopped:
            if on_applied is not None:
                on_applied(stopped.result)
            raise
        if on_applied is not None:
            on_applied(result)
        return result


class _Executor:
    def __init__(
        self,
        tracker: Tracker,
        state: SyncState,
        result: ApplyResult,
        on_change: Callable[[Change], None] | None,
    ) -> None:
        self.tracker = tracker
        self.state = state
        self.result = result
        self.on_change = on_change
        self.deferred: list[SyncRecord] = []

    def record(self, change: Change, ref: str, extra: dict[str, Any] | None = None) -> None:
        d = change.desired
        if d is None:
            return
        self.state.record(_record_of(change, d, ref, extra))

    def defer(self, change: Change) -> None:
        # Bookkeeping-only records (no tracker write) are batched per plan.
        d = change.desired
        if d is None or change.ref is None:
            return
        self.deferred.append(_record_of(change, d, change.ref))

    def flush(self) -> None:
        if not self.deferred:
            return
        self.state.record_many(self.deferred)
        self.deferred = []

    def run_plan(self, pd: PlanDiff) -> None:
        epic_ref = pd.epic_ref if pd.epic_ref != PENDING_EPIC else None
        if epic_ref:
            self.result.epics[pd.plan] = epic_ref
        for change in pd.changes:
            if change.kind == "issue" and change.ref and change.action != "orphan":
                self.result.issues[(pd.plan, change.item or "")] = change.ref
            if change.action not in WRITE_ACTIONS:
                if change.record:
                    self.defer(change)
                continue
            try:
                ref = self.one(change, epic_ref)
            except SecplanError as exc:
                # the hint is the way out (GitLab's refusals carry the choice the user has)
                hint = getattr(exc, "hint", None)
                self.result.failed.append((change, redact(f"{exc}; {hint}" if hint else exc)))
                continue
            change.ref = ref
            if change.kind == "epic":
                epic_ref = ref
                self.result.epics[pd.plan] = ref
            elif change.kind == "issue":
                self.result.issues[(pd.plan, change.item or "")] = ref
            self.result.done.append(change)
            if self.on_change is not None:
                self.on_change(change)
        self.flush()

    def one(self, change: Change, epic_ref: str | None) -> str:
        t = self.tracker
        d = change.desired
        if isinstance(d, DesiredEpic):
            if change.action == "create":
                epic = t.create_epic(
                    d.group, d.title, d.description, list(d.labels), d.confidential
                )
            else:
                epic = t.update_epic(change.ref or "", EpicUpdate(**change.updates))
            self.result.writes += 1
            self.record(change, epic.ref)
            return epic.ref
        if isinstance(d, DesiredMilestone):
            if change.action == "create":
                # Another plan of this run (or an earlier, killed run) may have made it.
                if t.get_milestone(d.group, d.title) is None:
                    t.create_milestone(d.group, d.title, d.start, d.due, d.description)
                    self.result.writes += 1
            else:
                t.update_milestone(d.group, d.title, MilestoneUpdate(**change.updates))
                self.result.writes += 1
            ref = change.ref or d.ref
            self.record(change, ref)
            return ref
        if isinstance(d, DesiredIssue):
            if change.action == "create":
                issue = t.create_issue(
                    d.project,
                    d.title,
                    d.description,
                    labels=list(d.labels),
                    milestone=d.milestone,
                    assignees=list(d.assignees),
                    confidential=d.confidential,
                    epic=epic_ref,
                )
                self.result.writes += 1
            elif change.marker_only:
                issue = t.update_issue(change.ref or "", IssueUpdate(**change.updates))
                self.result.writes += 1
            else:
                issue = self.update_issue(change, epic_ref)
            if not change.marker_only:
                self.record(change, issue.ref, {"epic": issue.epic})
            elif change.moved is not None:
                # Only the marker was written: what was pushed before is still what was pushed.
                self.state.record(replace(change.moved, ref=issue.ref))
            if change.renamed_from is not None:
                self.state.forget((change.plan, "issue", change.renamed_from))
            return issue.ref
        raise SecplanError(f"nothing to apply for {change.kind} {change.item}")

    def update_issue(self, change: Change, epic_ref: str | None) -> TrackedIssue:
        """Field updates, then the state a tick or untick in the plan asks for."""
        t = self.tracker
        ref = change.ref or ""
        updates = dict(change.updates)
        state = updates.pop("state", None)
        if updates.get("epic") == PENDING_EPIC:
            if epic_ref:
                updates["epic"] = epic_ref
            else:
                updates.pop("epic")
        issue = None
        if updates:
            issue = t.update_issue(ref, IssueUpdate(**updates))
            self.result.writes += 1
        if state == "closed":
            issue = t.close_issue(ref, note=f"closed: ticked in plan {change.plan}")
            self.result.writes += 1
        elif state == "opened":
            issue = t.reopen_issue(ref)
            t.add_note(ref, f"reopened: unticked in plan {change.plan}")
            self.result.writes += 2
        if issue is None:  # nothing left to write: an epic that is no longer pending
            issue = t.get_issue(ref)
            if issue is None:
                raise SecplanError(f"issue {ref} is gone from the tracker")
        return issue


def _record_of(
    change: Change,
    d: DesiredEpic | DesiredMilestone | DesiredIssue,
    ref: str,
    extra: dict[str, Any] | None = None,
) -> SyncRecord:
    """What to remember of a pushed object. An issue's record also keeps whether its item was
    ticked (outside the content hash), so unticking later reopens only what a tick closed."""
    fields = d.fields()
    pushed = {**fields, **(extra or {})}
    if isinstance(d, DesiredIssue):
        pushed["done"] = d.done
    item = EPIC_ITEM if change.kind == "epic" else (change.item or "")
    return SyncRecord(change.plan, change.kind, item, ref, content_hash(fields), pushed)


def _execute(
    tracker: Tracker,
    sync_plan: SyncPlan,
    state: SyncState,
    on_change: Callable[[Change], None] | None,
) -> ApplyResult:
    result = ApplyResult(plan=sync_plan)
    ex = _Executor(tracker, state, result, on_change)
    try:
        for pd in sync_plan.diffs:
            if pd.errors:
                continue
            ex.run_plan(pd)
            if not any(change.plan == pd.plan for change, _ in result.failed):
                result.completed.append(pd.plan)
    except KeyboardInterrupt as interrupt:
        result.interrupted = True
        raise ApplyInterrupted(result) from interrupt
    return result
