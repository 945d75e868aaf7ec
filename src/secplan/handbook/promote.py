"""``secplan new --from-issue REF``: promote the issue to an epic, then scaffold its plan.

Everything that can fail without touching the tracker (the issue does not exist, a plan with the
same id is already on disk) is checked before the promotion, so a failed command never leaves
an epic behind without its plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secplan.errors import NotFoundError, SecplanError, UsageError
from secplan.handbook.scaffold import ScaffoldResult, existing_plan_file, scaffold, slugify
from secplan.refs import parse_issue_ref


@dataclass
class PromotedPlan:
    """The plan that was written and the epic its source issue became."""

    scaffold: ScaffoldResult
    source: str  # normalised issue ref
    epic: str  # normalised epic ref


def new_plan_from_issue(
    root: Path,
    issue: str,
    *,
    title: str | None = None,
    status: str = "draft",
    database_url: str | None = None,
) -> PromotedPlan:
    """Promote ``issue`` to an epic and write a plan with ``source:`` and ``epic:`` filled in.

    The plan title defaults to the issue's title.
    """
    from secplan.config import load_config
    from secplan.tracker import open_backend

    config = load_config(root)
    ref = parse_issue_ref(issue, default_project=config.tracker)
    if ref is None:
        raise UsageError(
            f"--from-issue {issue!r} is not an issue reference",
            hint="Use group/project#12, #12 (with a default tracker project) or an issue URL.",
        )
    with open_backend(config, database_url=database_url) as backend:
        tracker = backend.tracker
        tracked = tracker.get_issue(str(ref))
        if tracked is None:
            raise NotFoundError(f"issue {ref} does not exist in the tracker")
        plan_title = title or tracked.title
        slug = slugify(plan_title)
        existing = existing_plan_file(root, slug)
        if existing is not None:
            raise SecplanError(
                f"a plan with the id '{slug}' already exists; issue {ref} was not promoted",
                path=existing,
                hint="Give the plan another title: secplan new 'Other title' --from-issue ...",
            )
        epic = tracker.promote_issue(str(ref))
    result = scaffold(root, plan_title, status=status, epic=epic.ref, source=str(ref))
    return PromotedPlan(scaffold=result, source=str(ref), epic=epic.ref)
