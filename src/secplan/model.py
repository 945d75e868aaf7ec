"""The plan model: what the parser produces and every other module consumes.

These are plain dataclasses; they hold no behaviour beyond small conveniences, so that the
parser (``secplan.markdown`` / ``secplan.handbook``) is the only place that knows Markdown and
everything downstream (lint, catalog, sync, web) works on the same objects. Line and column
numbers are 1-based and refer to the plan file as it is on disk (front matter included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

# Re-exported: the statuses live in their own module, which the configuration reads.
from secplan.statuses import READY_OR_LATER as READY_OR_LATER
from secplan.statuses import STATUSES as STATUSES
from secplan.statuses import TRACKER_IS_TRUTH as TRACKER_IS_TRUTH

RequirementsMode = Literal["none", "checklist", "issues"]
RequirementLevel = Literal["must", "should", "may"]


@dataclass(slots=True)
class Diagnostic:
    """A problem the parser found (front matter, anchors...). Lint rules add their own."""

    code: str
    message: str
    line: int = 1
    column: int = 1
    fixable: bool = False


@dataclass(slots=True)
class Link:
    """A ``{title, url}`` pair from front matter (``resources``, ``ssot``)."""

    title: str
    url: str


@dataclass(slots=True)
class Milestone:
    """A milestone declared in front matter."""

    title: str
    due: date | None = None
    start: date | None = None
    description: str = ""
    line: int = 1


@dataclass(slots=True)
class Section:
    """A heading and the text below it up to the next heading of the same or higher level."""

    title: str
    level: int
    anchor: str
    line: int
    explicit: bool = False  # anchor given with {#id} or an IAL
    no_toc: bool = False  # kramdown {:.no_toc}
    end_line: int = 0  # last line of the section (inclusive)


@dataclass(slots=True)
class Anchor:
    """A referenceable anchor: a heading id, an explicit id or a manual anchor."""

    id: str
    line: int
    column: int = 1
    kind: Literal["heading", "explicit", "manual"] = "heading"
    section: str | None = None  # anchor of the enclosing section


@dataclass(slots=True)
class WorkItem:
    """A GFM task-list item: one issue in the tracker."""

    id: str
    title: str
    line: int
    column: int = 1
    description: str = ""  # Markdown of everything nested under the item
    acceptance: list[str] = field(default_factory=list)
    milestone: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    ref: str | None = None  # issue that already covers it (normalised "group/project#iid")
    done: bool = False
    section: str | None = None  # anchor of the section the item is in
    spike: bool = False
    timebox: str | None = None
    has_question: bool = False
    explicit_id: bool = False
    generated: bool = False  # made from requirements, not written as a task item
    raw_title: str = ""  # first line as written, tokens included


@dataclass(slots=True)
class Requirement:
    """A list item holding an upper-case RFC 2119 keyword."""

    id: str
    level: RequirementLevel
    text: str
    line: int
    section: str | None = None
    keyword: str = ""


@dataclass(slots=True)
class Marker:
    """An unresolved marker (TODO, TBD, FIXME, XXX) outside code."""

    text: str
    line: int
    column: int = 1
    context: str = ""  # the line it is on, stripped


@dataclass(slots=True)
class LinkUse:
    """A link written in the plan body (for anchor / plan link checks)."""

    url: str
    line: int
    column: int = 1


@dataclass(slots=True)
class Plan:
    """One plan file, parsed."""

    id: str
    path: Path  # path on disk
    rel_path: str  # path relative to the handbook root, POSIX separators
    title: str | None = None
    status: str = "draft"
    epic: str | None = None  # normalised "group/sub&iid"
    source: str | None = None  # normalised "group/project#iid"
    tracker: str | None = None  # project path for new issues
    owners: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    confidential: bool = True
    milestones: list[Milestone] = field(default_factory=list)
    resources: list[Link] = field(default_factory=list)
    ssot: list[Link] = field(default_factory=list)
    superseded_by: str | None = None
    requirements_mode: RequirementsMode = "none"
    front_matter: dict[str, Any] = field(default_factory=dict)  # as read, unknown keys included
    front_matter_lines: dict[str, int] = field(default_factory=dict)  # key -> line
    body_line: int = 1  # first line after the front matter
    sections: list[Section] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    items: list[WorkItem] = field(default_factory=list)  # generated requirement items included
    requirements: list[Requirement] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    links: list[LinkUse] = field(default_factory=list)
    suppressions: dict[int, set[str]] = field(default_factory=dict)  # line -> codes ignored
    diagnostics: list[Diagnostic] = field(default_factory=list)  # parse-level problems
    content_hash: str = ""

    def anchor_ids(self) -> set[str]:
        """Every referenceable anchor id in the plan."""
        return {a.id for a in self.anchors}

    def milestone(self, title: str) -> Milestone | None:
        """The front-matter milestone with this title, if any."""
        return next((m for m in self.milestones if m.title == title), None)

    def section(self, anchor: str | None) -> Section | None:
        """The section with this anchor, if any."""
        return next((s for s in self.sections if s.anchor == anchor), None)
