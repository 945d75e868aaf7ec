"""Proposals from a prose plan's structure: deterministic heuristics, each with its reason.

Milestones come from phase-like headings (``Phase 1``, ``Iteration 2``, ``Beta``), dated
headings (``2027-03-31``, ``Q3 2027``, ``March 2027``) and the subsections of a roadmap-like
section. Work items come from bullets under task-like sections (tasks, next steps,
dependencies, recommendations...), imperative bullets elsewhere, ``TODO``/``TBD`` lines (a
spike, or a question when they ask one), RFC 2119 requirements no item covers, and links to
existing issues (``related``). Every proposal names the section anchor and line it came from,
a confidence between 0 and 1, and why it was made. Nothing the plan already has is proposed
again, so a second ``--write`` proposes nothing new.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from secplan.breakdown.text import bullets, code_free_lines, plain, title_of
from secplan.model import Plan, Section
from secplan.refs import parse_issue_ref

ItemKind = Literal["task", "spike", "question", "requirement", "related"]

#: The section ``--write`` adds; what is in it is never proposed again.
BREAKDOWN_ANCHOR = "work-breakdown"
BREAKDOWN_TITLE = "Work breakdown"

_TASK_SECTION = re.compile(
    r"\b(tasks?|to ?dos?|work items?|next steps?|action items?|actions|deliverables?|"
    r"dependenc(?:y|ies)|follow[- ]?ups?|implementation(?: plan| details| steps)?|steps|"
    r"recommendations?|remediations?|mitigations?|rollout|roll-out|migration(?: plan)?|"
    r"iterations?|phases?|roadmap|milestones?|work ?streams?|open questions?|outstanding|"
    r"backlog|plan of action|execution plan|what needs to be done|proposals?|"
    r"proposed (?:solution|changes?)|limitations)\b",
    re.IGNORECASE,
)
_CONTAINER = re.compile(
    r"\b(roadmap|iterations|phases|timeline|milestones|rollout plan|implementation plan|"
    r"execution plan|stages|releases)\b",
    re.IGNORECASE,
)
_PHASE = re.compile(
    r"^(?:phase|iteration|stage|milestone|step|release|part|wave|sprint|increment)\s*"
    r"[-:#]?\s*(?:\d+|[ivx]+\b|one|two|three|four|five)|^(?:mvp|alpha|beta|ga\b|"
    r"general availability|stable|poc\b|proof of concept|pilot)",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_QUARTER = re.compile(r"\bQ([1-4])\s*(?:FY)?'?\s*(20\d\d)\b", re.IGNORECASE)
_MONTH = re.compile(r"\b(" + "|".join(calendar.month_name[1:]) + r")\s+(20\d\d)\b", re.IGNORECASE)
_YEAR_ONLY = re.compile(r"^\D*(20\d\d)\D*$")
_GOALS = re.compile(r"\b(goals?|objectives?|outcomes?|scope)\b", re.IGNORECASE)
_NON_GOAL = re.compile(r"\bnon[- ]?goals?\b|out of scope", re.IGNORECASE)
_IMPERATIVE = frozenset(
    {
        "add",
        "adopt",
        "allow",
        "audit",
        "automate",
        "build",
        "change",
        "configure",
        "create",
        "define",
        "deploy",
        "deprecate",
        "design",
        "document",
        "enable",
        "disable",
        "ensure",
        "evaluate",
        "expose",
        "extract",
        "fix",
        "implement",
        "integrate",
        "introduce",
        "investigate",
        "measure",
        "migrate",
        "monitor",
        "move",
        "provide",
        "publish",
        "refactor",
        "remove",
        "rename",
        "replace",
        "review",
        "rotate",
        "set",
        "ship",
        "split",
        "support",
        "test",
        "track",
        "update",
        "upgrade",
        "validate",
        "write",
    }
)
_MARKER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b:?\s*")
_NORMAL = re.compile(r"[^a-z0-9]+")
_LIST_MARK = re.compile(r"^\s*(?:[-*+>]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")


def _norm(text: str) -> str:
    return " ".join(_NORMAL.sub(" ", text.lower()).split())


@dataclass
class Proposal:
    """One proposed milestone or work item, and where and why it was found."""

    kind: Literal["milestone", "item"]
    title: str
    section: str | None
    line: int
    confidence: float
    reason: str
    item_kind: ItemKind | None = None  # items only
    milestone: str | None = None  # items: the milestone it is proposed under
    due: dt.date | None = None  # milestones only
    ref: str | None = None  # related items: the existing issue

    @classmethod
    def task(
        cls,
        title: str,
        section: str | None,
        line: int,
        confidence: float,
        reason: str,
        milestone: str | None = None,
    ) -> Proposal:
        """A proposed task item."""
        return cls("item", title, section, line, confidence, reason, "task", milestone)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``secplan breakdown --format json``."""
        data = asdict(self)
        data["due"] = self.due.isoformat() if self.due else None
        if self.kind == "milestone":
            for key in ("item_kind", "milestone", "ref"):
                data.pop(key)
        else:
            data.pop("due")
        return data


@dataclass
class Breakdown:
    """What ``propose`` found for one plan."""

    milestones: list[Proposal] = field(default_factory=list)
    items: list[Proposal] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.milestones or self.items)


def _due(title: str) -> dt.date | None:
    """A date a heading names: a day, the end of a quarter or month, or of a bare year."""
    if m := _ISO_DATE.search(title):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    if m := _QUARTER.search(title):
        year, month = int(m.group(2)), int(m.group(1)) * 3
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if m := _MONTH.search(title):
        year = int(m.group(2))
        month = [n.lower() for n in calendar.month_name].index(m.group(1).lower())
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if m := _YEAR_ONLY.match(title):
        return dt.date(int(m.group(1)), 12, 31)
    return None


class _Sections:
    """Which sections enclose a line: the innermost one and its parents, in O(depth)."""

    def __init__(self, sections: list[Section]) -> None:
        self.sections = sorted(sections, key=lambda s: s.line)
        self.starts = [s.line for s in self.sections]
        self.parent: list[int] = []
        stack: list[int] = []
        for index, section in enumerate(self.sections):
            while stack and self.sections[stack[-1]].level >= section.level:
                stack.pop()
            self.parent.append(stack[-1] if stack else -1)
            stack.append(index)

    def chain(self, line: int) -> list[Section]:
        index = bisect.bisect_right(self.starts, line) - 1
        found = []
        while index >= 0:
            section = self.sections[index]
            if section.line <= line <= (section.end_line or line):
                found.append(section)
            index = self.parent[index]
        return found


def _milestones(plan: Plan) -> list[Proposal]:
    proposals = []
    containers = [s for s in plan.sections if _CONTAINER.search(s.title)]
    for section in plan.sections:
        title = section.title.strip()
        due = _due(title)
        reason = ""
        confidence = 0.0
        if _PHASE.search(title):
            reason, confidence = "phase-like heading", 0.8
        elif due is not None:
            reason, confidence = "dated heading", 0.7
        else:
            parent = next(
                (
                    c
                    for c in containers
                    if c.line < section.line <= c.end_line and section.level == c.level + 1
                ),
                None,
            )
            if parent is not None:
                reason = f"ordered subsection of '{parent.title}'"
                confidence = 0.6
        if reason and section.anchor != BREAKDOWN_ANCHOR:
            proposals.append(
                Proposal(
                    "milestone", title, section.anchor, section.line, confidence, reason, due=due
                )
            )
    return proposals


def _task_section(chain: list[Section]) -> Section | None:
    return next((s for s in chain if _TASK_SECTION.search(s.title)), None)


def _first_word(text: str) -> str:
    words = _NORMAL.sub(" ", text.lower()).split()
    return words[0] if words else ""


def propose(plan: Plan, text: str) -> Breakdown:
    """Milestones and work items for ``plan`` (parsed from ``text``, the file as on disk)."""
    lines = text.removeprefix("\ufeff").split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    first = max(1, plan.body_line)
    body = lines[first - 1 :]
    sections = _Sections(plan.sections)
    breakdown_section = plan.section(BREAKDOWN_ANCHOR)

    def outside_breakdown(line: int) -> bool:
        s = breakdown_section
        return s is None or not (s.line <= line <= s.end_line)

    existing_titles = {_norm(i.title) for i in plan.items}
    existing_refs = {i.ref for i in plan.items if i.ref}
    existing_milestones = {_norm(m.title) for m in plan.milestones}
    is_kep = "kep-number" in plan.front_matter

    result = Breakdown()
    seen_m: set[str] = set()
    if not is_kep:  # a KEP's milestones are its kep.yaml stages
        for m in _milestones(plan):
            key = _norm(m.title)
            if key and key not in existing_milestones and key not in seen_m:
                seen_m.add(key)
                result.milestones.append(m)

    items: list[Proposal] = []
    seen: set[str] = set(existing_titles)

    def add(proposal: Proposal) -> None:
        key = _norm(proposal.title)
        if len(key) < 3 or key in seen:
            return
        seen.add(key)
        items.append(proposal)

    for link in plan.links:
        ref = parse_issue_ref(link.url, plan.tracker) if "issues" in link.url else None
        if ref is None or str(ref) in existing_refs or not outside_breakdown(link.line):
            continue
        chain = sections.chain(link.line)
        raw = body[link.line - first] if 0 <= link.line - first < len(body) else ""
        line_text = plain(_LIST_MARK.sub("", raw))
        existing_refs.add(str(ref))
        add(
            Proposal(
                "item",
                title_of(line_text) or f"Follow up on {ref}",
                chain[0].anchor if chain else None,
                link.line,
                0.4,
                f"links existing issue {ref}",
                item_kind="related",
                ref=str(ref),
            )
        )

    stage_anchors = {m.section for m in _milestones(plan)}
    phase: tuple[int, str, str] | None = None  # indent, title and anchor of a phase bullet
    for bullet in bullets(body, first):
        if not outside_breakdown(bullet.line):
            continue
        chain = sections.chain(bullet.line)
        if not chain:
            continue
        title = title_of(_MARKER.sub("", bullet.text))
        if not title:
            continue
        if phase is not None and (bullet.indent <= phase[0] or chain[0].anchor != phase[2]):
            phase = None
        if phase is not None:
            add(
                Proposal.task(
                    title,
                    chain[0].anchor,
                    bullet.line,
                    0.7,
                    f"step of '{phase[1]}'",
                    milestone=phase[1],
                )
            )
            continue
        if bullet.indent > 3:
            continue  # nested bullets belong to the bullet above them
        if _PHASE.search(title) and not is_kep:
            phase = (bullet.indent, title, chain[0].anchor)
            # Lines continuing the bullet, one step each (`- Phase 1 (June)` then a line per step).
            index = bullet.line - first + 1
            while index < len(body) and body[index].strip() and not _LIST_MARK.match(body[index]):
                if body[index].lstrip().startswith("#"):
                    break
                step = title_of(body[index])
                if step:
                    add(
                        Proposal.task(
                            step,
                            chain[0].anchor,
                            first + index,
                            0.6,
                            f"step of '{title}'",
                            milestone=title,
                        )
                    )
                index += 1
            # `- Phase 1: Initial draft (June 2027)` in a roadmap is a milestone, not an item.
            key = _norm(title)
            if key not in existing_milestones and key not in seen_m:
                seen_m.add(key)
                result.milestones.append(
                    Proposal(
                        "milestone",
                        title,
                        chain[0].anchor,
                        bullet.line,
                        0.7,
                        "phase-like bullet",
                        due=_due(title),
                    )
                )
            continue
        task = _task_section(chain)
        stage = next((s for s in chain if s.anchor in stage_anchors), None)
        if task is None and stage is not None:
            add(
                Proposal.task(
                    title,
                    chain[0].anchor,
                    bullet.line,
                    0.6,
                    f"bullet under milestone '{stage.title}'",
                )
            )
            continue
        goal = next((s for s in chain if _GOALS.search(s.title)), None)
        if task is None and goal is not None and not _NON_GOAL.search(goal.title):
            add(
                Proposal.task(
                    title,
                    chain[0].anchor,
                    bullet.line,
                    0.4,
                    f"goal under '{goal.title}' (work that makes it true)",
                )
            )
        elif task is not None:
            add(
                Proposal.task(
                    title,
                    chain[0].anchor,
                    bullet.line,
                    0.8,
                    f"bullet under '{task.title}' (a task-like section)",
                )
            )
        elif _first_word(title) in _IMPERATIVE:
            add(
                Proposal.task(
                    title,
                    chain[0].anchor,
                    bullet.line,
                    0.5,
                    f"imperative bullet ('{_first_word(title)} ...')",
                )
            )

    prose = code_free_lines(body)
    for marker in plan.markers:
        index = marker.line - first
        if not (0 <= index < len(body)) or not prose[index] or not outside_breakdown(marker.line):
            continue
        chain = sections.chain(marker.line)
        if not chain:
            continue
        # The words from the marker on: "Runners keep tokens. TBD whether..." -> "whether..."
        at = marker.context.find(marker.text)
        tail = marker.context[at:] if at >= 0 else marker.context
        words = title_of(_MARKER.sub("", tail.lstrip("-*+ ")))
        if not words:
            continue
        question = "?" in tail
        title = f"Spike: {words.rstrip('?')}" + ("?" if question else "")
        add(
            Proposal(
                "item",
                title,
                chain[0].anchor,
                marker.line,
                0.6,
                # Lower case: the reason is written into the plan and must not be a marker.
                f"'{marker.text.lower()}' line" + (" asking a question" if question else ""),
                item_kind="question" if question else "spike",
            )
        )

    covered = " ".join(_norm(f"{i.title} {i.description}") for i in plan.items)
    for req in plan.requirements:
        if req.section == BREAKDOWN_ANCHOR or _norm(req.text) in covered:
            continue
        add(
            Proposal(
                "item",
                title_of(req.text),
                req.section,
                req.line,
                0.7,
                f"RFC 2119 requirement ({req.keyword}) no work item covers",
                item_kind="requirement",
            )
        )

    _assign_milestones(plan, result.milestones, items, sections)
    result.items = sorted((i for i in items if i.section is not None), key=lambda i: i.line)
    return result


def default_milestone_title(plan: Plan) -> str:
    """The milestone proposed when the plan has none and its structure names none."""
    return f"{plan.title or plan.id}: first iteration"


def _assign_milestones(
    plan: Plan, milestones: list[Proposal], items: list[Proposal], sections: _Sections
) -> None:
    """Each item goes under the milestone whose section holds it, else the plan's first one."""
    by_anchor = {m.section: m.title for m in milestones}
    fallback = plan.milestones[0].title if plan.milestones else None
    for item in items:
        if item.milestone:
            continue  # a step of a phase bullet
        chain = sections.chain(item.line)
        item.milestone = next((by_anchor[s.anchor] for s in chain if s.anchor in by_anchor), None)
        if item.milestone is None:
            if fallback is None:
                fallback = milestones[0].title if milestones else default_milestone_title(plan)
                if not milestones and not plan.milestones:
                    milestones.append(
                        Proposal(
                            "milestone",
                            fallback,
                            None,
                            plan.body_line,
                            0.3,
                            "the plan names no milestone: one to start with",
                        )
                    )
            item.milestone = fallback
