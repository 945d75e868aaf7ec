"""Desired state: what the tracker should hold for a plan (its epic, milestones and issues).

Pure functions of a :class:`~secplan.model.Plan` and the :class:`~secplan.config.Config`; nothing
here talks to a tracker. Every object sync creates carries a hidden marker in its description
(``<!-- secplan:plan=ID item=ID -->``) so it can be found again without any local state.

The marker cannot be forged by plan text: every piece of plan text that goes into a description
or title passes through :func:`neutralise_markers` (a word joiner after ``secplan``, invisible
when rendered), and :func:`parse_marker` reads the marker from its fixed place, the last line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, unquote

from secplan.config import Config
from secplan.errors import UsageError
from secplan.model import Plan, WorkItem
from secplan.refs import MAX_IID, iid_too_large, parse_epic_ref, parse_issue_ref

#: Every marker starts with this; searching for it finds every object sync made.
MARKER_PREFIX = "<!-- secplan:plan="
#: Pseudo item id under which a plan's epic is recorded in ``sync_state``.
EPIC_ITEM = "@epic"
_MARKER_RE = re.compile(r"<!-- secplan:plan=(?P<plan>\S+) (?:item=(?P<item>\S+)|kind=epic) -->")
#: What a marker-like sequence in plan text looks like (looser than a marker, so that variants a
#: tracker or another tool might still take for one are neutralised too).
_MARKER_LIKE = re.compile(r"(<!--\s*secplan)(\s*:)", re.IGNORECASE)
#: U+2060 WORD JOINER: invisible in rendered Markdown, and breaks every marker pattern.
_JOINER = "\u2060"
_SAFE = "/-_.~:"


def _enc(value: str) -> str:
    # Plan ids come from file names and may hold spaces; a marker must stay one token.
    return quote(value, safe=_SAFE)


def issue_marker(plan_id: str, item_id: str) -> str:
    """The hidden marker an issue made for ``item_id`` of ``plan_id`` carries."""
    return f"{MARKER_PREFIX}{_enc(plan_id)} item={_enc(item_id)} -->"


def epic_marker(plan_id: str) -> str:
    """The hidden marker an epic made for ``plan_id`` carries."""
    return f"{MARKER_PREFIX}{_enc(plan_id)} kind=epic -->"


def neutralise_markers(text: str) -> str:
    """``text`` with every marker-like ``<!-- secplan:`` broken by an invisible word joiner, so
    plan text (a plan documenting the marker, a hostile title) can never pass for a marker."""
    if "secplan" not in text.lower():
        return text
    return _MARKER_LIKE.sub(lambda m: m[1] + _JOINER + m[2], text)


def desired_title(text: str) -> str:
    """A title as the tracker will store it: every run of whitespace (tabs, NBSP, any Unicode
    space) one blank, none at the ends, markers neutralised; so the next apply sees no change."""
    return neutralise_markers(" ".join(text.split()))


def _real_marker(text: str) -> re.Match[str] | None:
    """The marker in its fixed place, the description's last non-blank line; for descriptions
    edited by hand below it, the last marker in the text (sync always appends it after every
    piece of plan text, so the last one is sync's own)."""
    text = text or ""
    stripped = text.rstrip()
    last_start = max(stripped.rfind("\n"), stripped.rfind("\r")) + 1
    m = _MARKER_RE.fullmatch(stripped, last_start)
    if m is not None:
        return m
    last = None
    for last in _MARKER_RE.finditer(text):  # noqa: B007 - only the last match is wanted
        pass
    return last


def parse_marker(text: str) -> tuple[str, str] | None:
    """``(plan_id, item_id)`` of the marker of ``text`` (item ``@epic`` for epics): the one on
    its last line, or the last one in the text; None when it carries none."""
    m = _real_marker(text)
    if m is None:
        return None
    item = m["item"]
    return unquote(m["plan"]), unquote(item) if item is not None else EPIC_ITEM


def epic_made_for_other(description: str, plan_id: str) -> str | None:
    """The id of the plan whose epic marker ``description`` carries, when that is not
    ``plan_id`` (an epic secplan made for another plan); None otherwise."""
    owner = parse_marker(description)
    if owner is not None and owner[1] == EPIC_ITEM and owner[0] != plan_id:
        return owner[0]
    return None


def replace_marker(text: str, plan_id: str, item_id: str) -> str:
    """``text`` with its marker (the one :func:`parse_marker` reads) replaced by the marker of
    ``item_id`` of ``plan_id`` (an issue that follows its renamed item); nothing else changes."""
    m = _real_marker(text)
    if m is None:
        return text
    return text[: m.start()] + issue_marker(plan_id, item_id) + text[m.end() :]


def content_hash(fields: dict[str, object]) -> str:
    """A stable hash of the fields sync pushes (what "the plan text changed" means)."""
    blob = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass
class DesiredEpic:
    """The epic a plan wants. ``ref`` is set when the plan already names one."""

    plan: str
    group: str
    title: str
    description: str
    labels: list[str]
    confidential: bool
    ref: str | None = None

    @property
    def marker(self) -> str:
        return epic_marker(self.plan)

    def fields(self) -> dict[str, object]:
        """The fields sync owns on an epic it created."""
        return {
            "title": self.title,
            "description": self.description,
            "labels": self.labels,
            "confidential": self.confidential,
        }


@dataclass
class DesiredMilestone:
    """A group milestone a plan declares (identified by group and title)."""

    plan: str
    group: str
    title: str
    start: date | None = None
    due: date | None = None
    description: str = ""

    @property
    def ref(self) -> str:
        """GitLab's reference of the group milestone: ``group%"title"``."""
        return f'{self.group}%"{self.title}"'

    def fields(self) -> dict[str, object]:
        """The fields sync owns on a milestone."""
        return {"start": self.start, "due": self.due, "description": self.description}


@dataclass
class DesiredIssue:
    """The issue one work item wants."""

    plan: str
    item: str
    project: str
    title: str
    description: str
    labels: list[str]
    milestone: str | None
    assignees: list[str]
    confidential: bool
    line: int = 1
    section: str | None = None
    ref: str | None = None  # the item names an existing issue (``#12`` on its line)
    done: bool = False
    generated: bool = False

    def fields(self) -> dict[str, object]:
        """The fields sync owns on an issue (the epic is added at apply time)."""
        return {
            "title": self.title,
            "description": self.description,
            "labels": self.labels,
            "milestone": self.milestone,
            "assignees": self.assignees,
            "confidential": self.confidential,
        }


@dataclass
class DesiredPlan:
    """Everything one plan wants in the tracker."""

    plan: Plan
    project: str
    group: str
    epic: DesiredEpic
    milestones: list[DesiredMilestone] = field(default_factory=list)
    issues: list[DesiredIssue] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.plan.id


def _unique(*lists: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for values in lists:
        for v in values:
            if v and v not in seen:
                seen[v] = None
    return list(seen)


def permalink(plan: Plan, config: Config, anchor: str | None) -> str:
    """Link to ``plan#anchor``: under ``Config.base_url`` when set, else the plan's path."""
    base = (
        f"{config.base_url.rstrip('/')}/{quote(plan.id, safe='/')}"
        if config.base_url
        else quote(plan.rel_path, safe="/")
    )
    return f"{base}#{anchor}" if anchor else base


def issue_description(plan: Plan, item: WorkItem, config: Config) -> str:
    """Item description + acceptance criteria + permalink to its section + the hidden marker."""
    parts: list[str] = []
    body = item.description.strip("\n")
    if body.strip():
        parts.append(body)
    missing = [a for a in item.acceptance if a not in body]
    if missing:
        parts.append("**Acceptance criteria**\n\n" + "\n".join(f"- [ ] {a}" for a in missing))
    section = plan.section(item.section)
    where = plan.title or plan.id
    if section is not None:
        where = f"{where} § {section.title}"
    link = permalink(plan, config, item.section)
    parts.append(f"Plan: [{where}]({link})")
    # Plan text first, neutralised as a whole; the real marker last, on its own line.
    return neutralise_markers("\n\n".join(parts)) + "\n\n" + issue_marker(plan.id, item.id) + "\n"


def epic_description(plan: Plan, config: Config) -> str:
    """An epic made for a plan: a link to the plan and the hidden marker."""
    title = neutralise_markers(plan.title or plan.id)
    return (
        f"Plan: [{title}]({neutralise_markers(permalink(plan, config, None))})\n\n"
        f"Work items are the child issues of this epic.\n\n{epic_marker(plan.id)}\n"
    )


def plan_project(plan: Plan, config: Config) -> str:
    """The project new issues of ``plan`` go to; a clear error when none is configured."""
    project = plan.tracker or config.tracker
    if not project:
        raise UsageError(
            f"plan '{plan.id}' names no tracker project",
            path=plan.rel_path,
            line=plan.front_matter_lines.get("tracker", 1),
            hint="Add 'tracker: group/project' to its front matter, "
            "or 'tracker = \"group/project\"' to secplan.toml.",
        )
    return project


def check_item_refs(plan: Plan) -> None:
    """Raise UsageError naming the first item whose issue ref cannot be looked up (not a
    reference, or a number no tracker holds), so that plan is skipped and the others synced."""
    for item in plan.items:
        if item.ref and parse_issue_ref(item.ref) is None:
            why = f"its number is larger than {MAX_IID}" if iid_too_large(item.ref) else ""
            raise UsageError(
                f"item '{item.id}' names {item.ref!r}, which is not an issue reference"
                + (f" ({why})" if why else ""),
                path=plan.rel_path,
                line=item.line,
                hint="Write it as group/project#12 or its URL, then run the command again.",
            )


def plan_group(plan: Plan, config: Config, project: str) -> str:
    """Group of the plan's epic and milestones: the epic's group, the configured group, or the
    project's group."""
    epic = parse_epic_ref(plan.epic) if plan.epic else None
    if epic is not None:
        return epic.path
    if config.group:
        return config.group
    ref = parse_issue_ref(f"{project}#1")
    return ref.group if ref is not None else project


def desired_for_plan(plan: Plan, config: Config) -> DesiredPlan:
    """Desired epic, milestones and issues for one plan (raises UsageError when it names no
    project)."""
    project = plan_project(plan, config)
    check_item_refs(plan)
    group = plan_group(plan, config, project)
    base_labels = _unique(config.labels, plan.labels)
    epic = DesiredEpic(
        plan=plan.id,
        group=group,
        title=desired_title(plan.title or plan.id),
        description=epic_description(plan, config),
        labels=base_labels,
        confidential=plan.confidential,
        ref=plan.epic,
    )
    milestones = [
        DesiredMilestone(
            plan=plan.id,
            group=group,
            title=m.title,
            start=m.start,
            due=m.due,
            description=m.description,
        )
        for m in plan.milestones
    ]
    issues: list[DesiredIssue] = []
    seen: set[str] = set()
    for item in plan.items:
        if item.id in seen:  # the parser makes ids unique; never push two issues for one id
            continue
        seen.add(item.id)
        issues.append(
            DesiredIssue(
                plan=plan.id,
                item=item.id,
                project=project,
                title=desired_title(item.title),
                description=issue_description(plan, item, config),
                labels=_unique(base_labels, item.labels, ["spike"] if item.spike else []),
                milestone=item.milestone,
                assignees=_unique(item.assignees),
                confidential=plan.confidential,
                line=item.line,
                section=item.section,
                ref=item.ref,
                done=item.done,
                generated=item.generated,
            )
        )
    return DesiredPlan(
        plan=plan, project=project, group=group, epic=epic, milestones=milestones, issues=issues
    )
