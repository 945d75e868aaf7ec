"""SP3xx: the work breakdown — items, milestones, detail, spikes, unresolved markers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from secplan.lint.context import LintContext, front_matter_broken
from secplan.lint.registry import Finding, declare, rule
from secplan.model import Plan, WorkItem

declare(
    "SP309",
    "template-text",
    "warning",
    "A sentence of the plan template (`secplan new`) is still in the plan: a placeholder or "
    "an example work item nobody replaced (silent in draft, where the template is the start).",
    escalates=True,
    silent_in=("draft",),
)

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def count_words(text: str) -> int:
    """Words in a Markdown text (list bullets, checkboxes and punctuation are not words)."""
    return len(_WORD.findall(text))


def _open_written_items(plan: Plan) -> Iterator[WorkItem]:
    # Done items need no more planning; generated requirement items carry their own detail.
    return (i for i in plan.items if not i.done and not i.generated)


@rule("SP301", "no-work-items", "warning", summary="The plan has no work items (task-list items).")
def no_work_items(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """The plan has no task-list items (and no generated requirement items)."""
    if not plan.items:
        yield Finding(
            "SP301",
            "plan has no work items; write the work as task-list items (`- [ ] ...`)",
            plan.body_line,
        )


@rule("SP302", "item-without-milestone", "warning", summary="A work item names no milestone.")
def item_without_milestone(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """An open work item has no ``%milestone``."""
    for item in _open_written_items(plan):
        if not item.milestone:
            yield Finding(
                "SP302",
                f'work item {item.title!r} has no milestone (add `%"Milestone title"`)',
                item.line,
                item.column,
            )


@rule(
    "SP303",
    "unknown-milestone",
    "error",
    summary="A work item names a milestone the front matter does not declare.",
    escalates=False,
)
def unknown_milestone(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A work item's ``%milestone`` is not one of the front matter's milestones."""
    if front_matter_broken(plan):
        return  # the milestones may well be declared in the YAML SP106 could not read
    declared = {m.title for m in plan.milestones}
    for item in plan.items:
        if item.milestone and item.milestone not in declared:
            known = ", ".join(repr(t) for t in sorted(declared)) or "none declared"
            yield Finding(
                "SP303",
                f"work item {item.title!r} names unknown milestone {item.milestone!r} "
                f"(known: {known})",
                item.line,
                item.column,
            )


@rule(
    "SP304",
    "item-lacks-detail",
    "warning",
    summary="A work item's description is too short to start work and has no acceptance criteria.",
)
def item_lacks_detail(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """An open item's description has fewer words than ``detail_words`` and no acceptance."""
    threshold = ctx.config.detail_words
    for item in _open_written_items(plan):
        if item.acceptance or item.ref:
            continue  # an item that names its existing issue has its detail there
        words = count_words(item.description)
        if words < threshold:
            yield Finding(
                "SP304",
                f"work item {item.title!r} lacks detail: {words} words of description "
                f"(at least {threshold}) and no `Acceptance:` criteria",
                item.line,
                item.column,
            )


@rule(
    "SP305",
    "spike-without-timebox-or-question",
    "warning",
    summary="A spike (`Spike:`/`PoC:`) does not state its timebox and the question it answers.",
)
def spike_without_timebox_or_question(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A spike item lacks a timebox (``timebox: 3d``) or a question (a ``?``)."""
    for item in _open_written_items(plan):
        if not item.spike:
            continue
        missing = []
        if not item.timebox:
            missing.append("a timebox (`timebox: 3d`)")
        if not item.has_question:
            missing.append("the question it answers (a `?`)")
        if missing:
            yield Finding(
                "SP305",
                f"spike {item.title!r} does not state {' or '.join(missing)}",
                item.line,
                item.column,
            )


@rule(
    "SP306",
    "unresolved-marker",
    "warning",
    summary="A TODO, TBD, FIXME or XXX marker outside code.",
)
def unresolved_marker(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A TODO/TBD/FIXME/XXX marker outside code: the plan is not finished there."""
    for marker in plan.markers:
        context = marker.context if len(marker.context) <= 60 else marker.context[:57] + "..."
        suffix = f": {context}" if context else ""
        yield Finding(
            "SP306", f"unresolved `{marker.text}` marker{suffix}", marker.line, marker.column
        )


@rule(
    "SP307",
    "milestone-without-due-date",
    "warning",
    summary="A front-matter milestone has no `due` date.",
)
def milestone_without_due_date(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A declared milestone has no ``due`` date."""
    raw = plan.front_matter.get("milestones")
    # A due date that is there but unreadable is SP104's finding, not a missing one.
    written = {
        str(r.get("title"))
        for r in (raw if isinstance(raw, list) else [])
        if isinstance(r, dict) and r.get("due") not in (None, "")
    }
    for m in plan.milestones:
        if m.due is None and m.title not in written:
            yield Finding("SP307", f"milestone {m.title!r} has no `due` date", m.line)


@rule(
    "SP308",
    "empty-milestone",
    "warning",
    summary="A declared milestone that no work item uses.",
    escalates=False,
)
def empty_milestone(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A declared milestone that no work item names."""
    used = {i.milestone for i in plan.items if i.milestone}
    for m in plan.milestones:
        if m.title not in used:
            yield Finding("SP308", f"milestone {m.title!r} has no work items", m.line)
