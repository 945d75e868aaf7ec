"""The tracker interface every backend implements (local store now, GitLab later).

Objects use GitLab's shapes and reference syntax so plans move between backends unchanged:
issues are ``group/project#iid``, epics ``group&iid``, milestones are group milestones named by
title. Sync (``secplan.sync``) talks only to this interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

State = Literal["opened", "closed"]


@dataclass
class TrackedMilestone:
    group: str
    title: str
    start: date | None = None
    due: date | None = None
    description: str = ""
    state: State = "opened"
    id: int | None = None


@dataclass
class TrackedEpic:
    ref: str  # "group&iid"
    group: str
    iid: int
    title: str
    description: str = ""
    labels: list[str] = field(default_factory=list)
    state: State = "opened"
    confidential: bool = True
    web_url: str | None = None


@dataclass
class TrackedIssue:
    ref: str  # "group/project#iid"
    project: str
    iid: int
    title: str
    description: str = ""
    labels: list[str] = field(default_factory=list)
    milestone: str | None = None  # milestone title
    assignees: list[str] = field(default_factory=list)
    state: State = "opened"
    confidential: bool = True
    epic: str | None = None  # parent epic ref
    web_url: str | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class TrackedNote:
    author: str
    body: str
    created_at: datetime


@dataclass
class StateEvent:
    """One state change of an issue (for burn-up / progress charts)."""

    issue: str  # issue ref
    state: State  # the state it moved to
    at: datetime


class Tracker(Protocol):
    """What sync and the CLI need from a tracker. All refs are GitLab-style strings."""

    # Epics
    def get_epic(self, ref: str) -> TrackedEpic | None: ...
    def find_epics(self, group: str, marker: str) -> list[TrackedEpic]:
        """Epics in ``group`` whose description contains ``marker``."""
        ...

    def create_epic(
        self,
        group: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        confidential: bool = True,
    ) -> TrackedEpic: ...
    def update_epic(self, ref: str, **changes: object) -> TrackedEpic: ...
    def list_epics(self, group: str | None = None) -> list[TrackedEpic]: ...

    # Milestones (group milestones, named by title)
    def get_milestone(self, group: str, title: str) -> TrackedMilestone | None: ...
    def create_milestone(
        self,
        group: str,
        title: str,
        start: date | None = None,
        due: date | None = None,
        description: str = "",
    ) -> TrackedMilestone: ...
    def update_milestone(self, group: str, title: str, **changes: object) -> TrackedMilestone: ...
    def list_milestones(self, group: str | None = None) -> list[TrackedMilestone]: ...

    # Issues
    def get_issue(self, ref: str) -> TrackedIssue | None: ...
    def find_issues(self, project: str, marker: str) -> list[TrackedIssue]:
        """Issues in ``project`` whose description contains ``marker``."""
        ...

    def create_issue(
        self,
        project: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        milestone: str | None = None,
        assignees: list[str] | None = None,
        confidential: bool = True,
        epic: str | None = None,
    ) -> TrackedIssue: ...
    def update_issue(self, ref: str, **changes: object) -> TrackedIssue:
        """Change fields (title, description, labels, milestone, assignees, confidential, epic)."""
        ...

    def close_issue(self, ref: str, note: str | None = None) -> TrackedIssue: ...
    def reopen_issue(self, ref: str) -> TrackedIssue: ...
    def list_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> list[TrackedIssue]: ...
    def add_note(self, ref: str, body: str, author: str | None = None) -> TrackedNote: ...
    def notes(self, ref: str) -> list[TrackedNote]: ...
    def state_events(self, refs: list[str] | None = None) -> list[StateEvent]: ...

    # Workflow
    def promote_issue(self, ref: str) -> TrackedEpic:
        """Promote an issue to an epic in its project's group, as GitLab does."""
        ...
