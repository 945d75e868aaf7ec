"""SP501: review threads still open on a plan that claims to be ready.

Threads live in the tracker store. The rule only reads ``ctx.open_threads`` (plan id -> count),
which the CLI fills when a store exists, so the check never creates a database.
"""

from __future__ import annotations

from collections.abc import Iterator

from secplan.lint.context import LintContext, key_line
from secplan.lint.registry import Finding, rule
from secplan.model import Plan


@rule(
    "SP501",
    "unresolved-review-threads",
    "warning",
    summary="The plan has unresolved review threads (warning in review, error from ready).",
    silent_in=("draft",),
)
def unresolved_review_threads(plan: Plan, ctx: LintContext) -> Iterator[Finding]:
    """Review threads on the plan are still open."""
    count = ctx.open_threads.get(plan.id, 0)
    if count > 0:
        noun = "thread" if count == 1 else "threads"
        yield Finding(
            "SP501",
            f"{count} unresolved review {noun} (see `secplan serve`)",
            key_line(plan, "status"),
        )
