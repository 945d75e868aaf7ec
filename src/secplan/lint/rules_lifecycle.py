"""SP4xx: the plan's lifecycle — its epic, its single source of truth, its successor."""

from __future__ import annotations

from collections.abc import Iterator

from secplan.lint.context import LintContext, key_line
from secplan.lint.registry import Finding, rule
from secplan.model import TRACKER_IS_TRUTH, Plan


@rule(
    "SP401",
    "missing-epic",
    "warning",
    summary="The plan names no `epic` (silent in draft, warning in review, error from ready).",
    silent_in=("draft",),
)
def missing_epic(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """The plan has no ``epic``: from review on it needs its single Epic."""
    if not plan.epic and plan.front_matter.get("epic") in (None, ""):
        linked = ctx.catalog_epic(plan)
        hint = (
            f"; the catalog table links epic {linked}: `secplan adopt` moves it into the "
            "front matter"
            if linked
            else " (e.g. `epic: group/sub&16`)"
        )
        yield Finding(
            "SP401",
            f"plan {ctx.status_phrase(plan)} but names no `epic`{hint}",
            key_line(plan, "status"),
        )


@rule(
    "SP404",
    "unknown-epic",
    "warning",
    summary="The plan's `epic` does not exist in the tracker (checked only when its database "
    "can be read).",
)
def unknown_epic(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """``epic`` names an epic the tracker lacks: ``plan``/``apply`` would file under none."""
    if ctx.known_epics is None or not plan.epic or plan.epic in ctx.known_epics:
        return
    yield Finding(
        "SP404",
        f"epic {plan.epic} does not exist in the tracker (create it with `secplan epic create`, "
        "or correct `epic`)",
        key_line(plan, "epic"),
    )


@rule(
    "SP402",
    "missing-ssot",
    "error",
    summary="An implementing/implemented plan does not say where the truth now lives (`ssot`).",
    escalates=False,
)
def missing_ssot(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """An implementing/implemented plan lists no ``ssot`` links."""
    status = ctx.status(plan)
    if status in TRACKER_IS_TRUTH and not plan.ssot:
        yield Finding(
            "SP402",
            f"plan {ctx.status_phrase(plan)} but lists no `ssot` (runbooks, system docs where "
            "the truth lives)",
            key_line(plan, "status"),
        )


@rule(
    "SP403",
    "superseded-without-target",
    "error",
    summary="A superseded plan does not name an existing successor in `superseded_by`.",
    escalates=False,
)
def superseded_without_target(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """A ``superseded`` plan has no ``superseded_by``, or it names no plan of the handbook."""
    if plan.status != "superseded":
        return
    target = plan.superseded_by or plan.front_matter.get("superseded_by")
    if not target:
        yield Finding(
            "SP403",
            "plan is `superseded` but names no successor (`superseded_by: <plan id>`)",
            key_line(plan, "status"),
        )
    elif ctx.plan_ids and str(target).strip("/") not in ctx.plan_ids:
        yield Finding(
            "SP403",
            f"`superseded_by` names {target!r}, which is no plan of this handbook",
            key_line(plan, "superseded_by"),
        )
