"""The tracker interface every backend implements (the embedded local tracker, GitLab).

Objects use GitLab's shapes and reference syntax so plans move between backends unchanged:
issues are ``group/project#iid``, milestones are group milestones named by title. Epic refs are
opaque to sync: ``group&iid`` for a real epic, but a backend without epics may hand out the ref of
a tracking issue (``group/project#iid``) instead; sync only passes them back to the tracker.

Errors (``secplan.errors``): a named object that does not exist is :class:`NotFoundError`; a
token or user that may not do something is :class:`ForbiddenError`; the server asking us to slow
down past what retries absorb is :class:`RateLimitedError`; a write the tracker refuses because
of the object's state (a title taken, a non-confidential issue under a confidential epic) is
:class:`ConflictError`. All are :class:`~secplan.errors.TrackerError`, so sync can report them per
object and go on with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Literal, Protocol

State = Literal["opened", "closed"]
#: How a tracker represents a plan's epic.
EpicMode = Literal["local", "work_items", "rest", "tracking_issue"]

EPIC_MODE_TEXT: dict[str, str] = {
    "local": "embedded epics",
    "work_items": "work-item epics",
    "rest": "REST epics",
    "tracking_issue": "tracking issue",
}


@dataclass(frozen=True)
class Capabilities:
    """What a tracker can represent; sync adapts to it instead of testing backend types."""

    epics: EpicMode = "local"
    multiple_assignees: bool = True
    link_types: tuple[str, ...] = ("relates_to", "blocks", "is_blocked_by")
    #: epics can carry a milestone (GitLab's cannot)
    epic_milestones: bool = False

    @property
    def work_items(self) -> bool:
        """Epics are work items (GitLab's GraphQL Work Items API)."""
        return self.epics == "work_items"

    @property
    def epic_mode_text(self) -> str:
        """The mode as ``secplan status`` names it."""
        return EPIC_MODE_TEXT[self.epics]


@dataclass
class CallStats:
    """What a tracker's calls cost so far (``apply --stats``): API calls (or transactions for
    the local tracker) that read and that wrote, retries after faults, and waits for limits."""

    reads: int = 0
    writes: int = 0
    retries: int = 0
    waits: int = 0
    waited_seconds: float = 0.0

    def summary(self) -> str:
        """One line for people."""
        return (
            f"API calls: {self.reads} reads, {self.writes} writes, {self.retries} retries, "
            f"{self.waits} waits ({self.waited_seconds:.1f} s)"
        )

    def as_dict(self) -> dict[str, float | int]:
        """The counters by name (for JSON output)."""
        return {
            "reads": self.reads,
            "writes": self.writes,
            "retries": self.retries,
            "waits": self.waits,
            "waited_seconds": round(self.waited_seconds, 3),
        }


@dataclass
class AccessProblem:
    """A project or group the tracker cannot reach, or cannot write to, found by the preflight."""

    path: str
    kind: Literal["project", "group"]
    message: str
    hint: str | None = None


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
    ref: str  # "group&iid", or a tracking issue's "group/project#iid"
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


class _Unset:
    """The value of a field an update leaves alone (``None`` clears a field)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass
class _Update:
    """Fields left at :data:`UNSET` are not changed; labels change by ``add_labels`` and
    ``remove_labels``, which the tracker applies atomically (as GitLab does), so labels a person
    added meanwhile survive."""

    title: Any = UNSET  # str
    description: Any = UNSET  # str
    add_labels: list[str] = field(default_factory=list)
    remove_labels: list[str] = field(default_factory=list)
    confidential: Any = UNSET  # bool
    state_event: Any = UNSET  # "close" | "reopen"

    def changed(self) -> dict[str, Any]:
        """The fields this update sets, by name (labels only when non-empty)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("add_labels", "remove_labels"):
                if value:
                    out[f.name] = list(value)
            elif value is not UNSET:
                out[f.name] = value
        return out

    def __bool__(self) -> bool:
        return bool(self.changed())


@dataclass
class IssueUpdate(_Update):
    """A change to one issue. ``milestone``/``epic`` = None removes it; ``assignees`` is the
    whole new set (usernames)."""

    milestone: Any = UNSET  # str | None (title)
    assignees: Any = UNSET  # list[str]
    epic: Any = UNSET  # str | None (epic ref)


@dataclass
class EpicUpdate(_Update):
    """A change to one epic (or the tracking issue standing in for it)."""


@dataclass
class MilestoneUpdate:
    """A change to one group milestone; :data:`UNSET` fields are left alone."""

    title: Any = UNSET  # str
    start: Any = UNSET  # date | None
    due: Any = UNSET  # date | None
    description: Any = UNSET  # str
    state_event: Any = UNSET  # "close" | "activate"

    def changed(self) -> dict[str, Any]:
        """The fields this update sets, by name."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not UNSET}

    def __bool__(self) -> bool:
        return bool(self.changed())


class ListIssuesFromIter:
    """``list_issues`` for a backend that streams with ``iter_issues`` (every backend does)."""

    def iter_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> Iterator[TrackedIssue]:
        raise NotImplementedError

    def list_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> list[TrackedIssue]:
        """:meth:`iter_issues` as a list."""
        return list(self.iter_issues(project, state, epic, labels, milestone))


class Tracker(Protocol):
    """What sync, the CLI and the web need from a tracker. All refs are GitLab-style strings."""

    #: Who this tracker is, stable across runs ("local", or "gitlab:https://host"): sync
    #: records are kept per identity, so two backends never read each other's.
    identity: str
    #: calls made so far
    stats: CallStats

    @property
    def capabilities(self) -> Capabilities: ...

    def check_access(self, projects: Iterable[str], groups: Iterable[str]) -> list[AccessProblem]:
        """Preflight of ``plan``/``apply``: every project and group it will read or write, each
        problem found (all at once). Raises :class:`ForbiddenError` when nothing can work at
        all (a rejected token)."""
        ...

    def close(self) -> None:
        """Release connections; the tracker is not used afterwards."""
        ...

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
    def update_epic(self, ref: str, update: EpicUpdate) -> TrackedEpic: ...
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
    def update_milestone(
        self, group: str, title: str, update: MilestoneUpdate
    ) -> TrackedMilestone: ...
    def list_milestones(self, group: str | None = None) -> list[TrackedMilestone]: ...

    # Issues
    def get_issue(self, ref: str) -> TrackedIssue | None: ...
    def get_issues(self, refs: Iterable[str]) -> dict[str, TrackedIssue]:
        """Many issues at once, keyed by the refs asked for; missing ones are left out (a ref
        naming a project the tracker does not have is missing, not an error)."""
        ...

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
    def update_issue(self, ref: str, update: IssueUpdate) -> TrackedIssue: ...
    def close_issue(self, ref: str, note: str | None = None) -> TrackedIssue: ...
    def reopen_issue(self, ref: str) -> TrackedIssue: ...
    def iter_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> Iterator[TrackedIssue]:
        """Issues filtered like GitLab's list (labels: all of them), streamed page by page."""
        ...

    def list_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> list[TrackedIssue]:
        """:meth:`iter_issues` as a list."""
        ...

    def add_note(self, ref: str, body: str, author: str | None = None) -> TrackedNote: ...
    def notes(self, ref: str) -> list[TrackedNote]: ...
    def state_events(self, refs: list[str] | None = None) -> list[StateEvent]: ...
    def link_issues(self, source: str, target: str, link_type: str = "relates_to") -> None: ...

    # Workflow
    def promote_issue(self, ref: str) -> TrackedEpic:
        """Promote an issue to an epic in its project's group, as GitLab does."""
        ...
