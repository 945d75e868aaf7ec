"""GitLab's JSON (REST and GraphQL) turned into the tracker's dataclasses.

REST shapes: docs.gitlab.com/api/issues (issue, with ``references.full`` and the Premium
``epic`` object), docs.gitlab.com/api/epics, docs.gitlab.com/api/group_milestones,
docs.gitlab.com/api/notes. GraphQL: the ``WorkItem`` type (docs.gitlab.com/api/graphql/reference).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from secplan.tracker.base import (
    State,
    TrackedEpic,
    TrackedIssue,
    TrackedMilestone,
    TrackedNote,
)

_EPIC_URL = re.compile(r"/groups/(?P<path>.+?)/-/(?:epics|work_items)/(?P<iid>\d+)")


def when(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp (GitLab writes ``Z``), or None."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def day(text: str | None) -> date | None:
    """A ``YYYY-MM-DD`` date, or None."""
    return date.fromisoformat(text) if text else None


def _state(text: str | None) -> State:
    return "closed" if (text or "").lower() == "closed" else "opened"


def split_ref(full: str) -> tuple[str, int]:
    """``("group/project", 12)`` from ``group/project#12`` (or ``group&5``)."""
    sep = "#" if "#" in full else "&"
    path, _, iid = full.rpartition(sep)
    return path, int(iid)


def epic_ref_of_rest_issue(data: dict[str, Any]) -> str | None:
    """The ``group&iid`` of a REST issue's epic (Premium's ``epic`` object), or None."""
    epic = data.get("epic")
    if not isinstance(epic, dict):
        return None
    m = _EPIC_URL.search(str(epic.get("url") or epic.get("web_url") or ""))
    if m is None:
        return None
    return f"{m['path']}&{m['iid']}"


def issue_from_rest(data: dict[str, Any], epic: str | None = None) -> TrackedIssue:
    """A REST issue. ``epic`` overrides the epic read from the issue (tracking-issue mode)."""
    full = (data.get("references") or {}).get("full") or ""
    project, iid = split_ref(full) if full else ("", int(data["iid"]))
    milestone = data.get("milestone") or None
    return TrackedIssue(
        ref=f"{project}#{iid}",
        project=project,
        iid=iid,
        title=data.get("title") or "",
        description=data.get("description") or "",
        labels=list(data.get("labels") or []),
        milestone=milestone.get("title") if isinstance(milestone, dict) else None,
        assignees=[a.get("username", "") for a in data.get("assignees") or []],
        state=_state(data.get("state")),
        confidential=bool(data.get("confidential")),
        epic=epic if epic is not None else epic_ref_of_rest_issue(data),
        web_url=data.get("web_url"),
        created_at=when(data.get("created_at")),
        closed_at=when(data.get("closed_at")),
    )


def epic_from_rest(data: dict[str, Any]) -> TrackedEpic:
    """A REST epic (``GET /groups/:id/epics/:iid``)."""
    full = (data.get("references") or {}).get("full") or ""
    group, iid = split_ref(full)
    return TrackedEpic(
        ref=f"{group}&{iid}",
        group=group,
        iid=iid,
        title=data.get("title") or "",
        description=data.get("description") or "",
        labels=list(data.get("labels") or []),
        state=_state(data.get("state")),
        confidential=bool(data.get("confidential")),
        web_url=data.get("web_url"),
    )


def epic_from_tracking_issue(issue: TrackedIssue, group: str) -> TrackedEpic:
    """A Free-tier tracking issue as the epic it stands in for (its ref is the issue's)."""
    return TrackedEpic(
        ref=issue.ref,
        group=group,
        iid=issue.iid,
        title=issue.title,
        description=issue.description,
        labels=list(issue.labels),
        state=issue.state,
        confidential=issue.confidential,
        web_url=issue.web_url,
    )


def epic_from_work_item(node: dict[str, Any]) -> TrackedEpic:
    """A GraphQL ``WorkItem`` of type Epic."""
    group = (node.get("namespace") or {}).get("fullPath") or ""
    iid = int(node["iid"])
    labels: list[str] = []
    for widget in node.get("widgets") or []:
        if widget.get("type") == "LABELS" and widget.get("labels"):
            labels = [n["title"] for n in widget["labels"].get("nodes") or []]
    return TrackedEpic(
        ref=f"{group}&{iid}",
        group=group,
        iid=iid,
        title=node.get("title") or "",
        description=node.get("description") or "",
        labels=labels,
        state=_state(node.get("state")),
        confidential=bool(node.get("confidential")),
        web_url=node.get("webUrl"),
    )


def milestone_from_rest(data: dict[str, Any], group: str) -> TrackedMilestone:
    """A group milestone (``state`` ``active`` reads as opened)."""
    return TrackedMilestone(
        group=group,
        title=data.get("title") or "",
        start=day(data.get("start_date")),
        due=day(data.get("due_date")),
        description=data.get("description") or "",
        state=_state(data.get("state")),
        id=data.get("id"),
    )


def note_from_rest(data: dict[str, Any]) -> TrackedNote:
    """A note."""
    return TrackedNote(
        author=(data.get("author") or {}).get("username", ""),
        body=data.get("body") or "",
        created_at=when(data.get("created_at")) or datetime.min,
    )
