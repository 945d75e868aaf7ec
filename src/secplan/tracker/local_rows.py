"""Helpers of the local tracker: checking paths and titles, and turning rows into Tracked* objects.

GitLab's rules live here: where a project may live, how long a title may be, how a ref is spelt.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from secplan.errors import UsageError
from secplan.refs import Ref, parse_epic_ref, parse_issue_ref
from secplan.store.models import Epic, Issue, Milestone, Namespace
from secplan.tracker.base import TrackedEpic, TrackedIssue, TrackedMilestone

LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
MAX_TITLE = 255


def default_author() -> str:
    """Who notes and review comments are attributed to: ``$SECPLAN_USER`` or the login name."""
    env = os.environ.get("SECPLAN_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "secplan"


def parse_issue(text: str) -> Ref:
    ref = parse_issue_ref(text)
    if ref is None:
        raise UsageError(
            f"not an issue reference: {text!r}", hint="Write it as group/project#12 or its URL."
        )
    return ref


def parse_epic(text: str) -> Ref:
    ref = parse_epic_ref(text)
    if ref is None:
        raise UsageError(
            f"not an epic reference: {text!r}", hint="Write it as group&12 or its URL."
        )
    return ref


def check_path(path: str, what: Literal["group", "project"]) -> str:
    path = path.strip().strip("/")
    parsed = parse_issue_ref(f"{path}#1")
    dots = any(part in (".", "..") or part.endswith(".git") for part in path.split("/"))
    if not path or parsed is None or parsed.path != path or dots:
        raise UsageError(
            f"not a {what} path: {path!r}",
            hint="Use a GitLab-style full path such as security/appsec"
            + ("/plans." if what == "project" else "."),
        )
    if what == "project" and "/" not in path:
        raise UsageError(
            f"project {path!r} has no group",
            hint=f"Projects live in a group, e.g. security/{path}.",
        )
    return path


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UsageError("the title is empty")
    if len(title) > MAX_TITLE:
        raise UsageError(f"the title is longer than {MAX_TITLE} characters ({len(title)})")
    return title


def clean_list(values: Iterable[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for value in values or ():
        value = value.strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


def epic_ref_of(row: Epic) -> str:
    return f"{row.group.full_path}&{row.iid}"


def issue_ref_of(row: Issue) -> str:
    return f"{row.project.full_path}#{row.iid}"


def to_issue(row: Issue) -> TrackedIssue:
    """An ORM issue as a TrackedIssue (the same conversion listing uses on flat rows)."""
    epic = row.epic
    return row_to_issue(
        (
            row.project.full_path,
            row.iid,
            row.title,
            row.description,
            row.labels,
            row.milestone.title if row.milestone else None,
            row.assignees,
            row.state,
            row.confidential,
            epic.group.full_path if epic else None,
            epic.iid if epic else None,
            row.created_at,
            row.closed_at,
        )
    )


def to_epic(row: Epic) -> TrackedEpic:
    return TrackedEpic(
        ref=epic_ref_of(row),
        group=row.group.full_path,
        iid=row.iid,
        title=row.title,
        description=row.description,
        labels=list(row.labels),
        state="closed" if row.state == "closed" else "opened",
        confidential=row.confidential,
    )


def to_milestone(row: Milestone) -> TrackedMilestone:
    return TrackedMilestone(
        group=row.group.full_path,
        title=row.title,
        start=row.start_date,
        due=row.due_date,
        description=row.description,
        state="closed" if row.state == "closed" else "opened",
        id=row.id,
    )


_EPIC_GROUP = aliased(Namespace, name="epic_group")


def issue_select() -> Any:
    """Issue columns with the paths and titles a TrackedIssue needs, in one flat query.

    Reading rows instead of ORM objects keeps listing tens of thousands of issues quick.
    """
    return (
        sa.select(
            Namespace.full_path,
            Issue.iid,
            Issue.title,
            Issue.description,
            Issue.labels,
            Milestone.title.label("milestone"),
            Issue.assignees,
            Issue.state,
            Issue.confidential,
            _EPIC_GROUP.full_path.label("epic_group"),
            Epic.iid.label("epic_iid"),
            Issue.created_at,
            Issue.closed_at,
        )
        .select_from(Issue)
        .join(Namespace, Issue.project_id == Namespace.id)
        .outerjoin(Milestone, Issue.milestone_id == Milestone.id)
        .outerjoin(Epic, Issue.epic_id == Epic.id)
        .outerjoin(_EPIC_GROUP, Epic.group_id == _EPIC_GROUP.id)
    )


def row_to_issue(row: Any) -> TrackedIssue:
    # Unpacking by position: attribute access on result rows costs several times more.
    (path, iid, title, description, labels, milestone, assignees, state, confidential) = row[:9]
    epic_group, epic_iid, created_at, closed_at = row[9:]
    return TrackedIssue(
        ref=f"{path}#{iid}",
        project=path,
        iid=iid,
        title=title,
        description=description,
        labels=list(labels),
        milestone=milestone,
        assignees=list(assignees),
        state="closed" if state == "closed" else "opened",
        confidential=confidential,
        epic=f"{epic_group}&{epic_iid}" if epic_group else None,
        created_at=created_at,
        closed_at=closed_at,
    )


def in_namespace(path: str) -> sa.ColumnElement[bool]:
    """The namespace ``path`` itself or anything below it."""
    return sa.or_(
        Namespace.full_path == path, Namespace.full_path.startswith(path + "/", autoescape=True)
    )
