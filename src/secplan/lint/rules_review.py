"""SP501: review threads still open on a plan that claims to be ready.

Threads live in the tracker store and, with the GitLab backend, in merge requests (as
``secplan review comments`` last cached them). The rule only reads ``ctx.open_threads`` (plan
id -> count), which the CLI fills from both, so the check never creates a database nor calls
GitLab.
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
        where = (
            "`secplan serve` and `secplan review comments`"
            if ctx.config.backend == "gitlab"
            else "`secplan serve`"
        )
        yield Finding(
            "SP501",
            f"{count} unresolved review {noun} (see {where})",
            key_line(plan, "status"),
        )
