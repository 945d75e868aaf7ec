"""Requirements (RFC 2119 keywords in list items) and the work items they generate."""

from __future__ import annotations

import re

from secplan.model import Requirement, RequirementLevel, Section, WorkItem

_KEYWORD = re.compile(
    r"\b(MUST NOT|MUST|REQUIRED|SHALL NOT|SHALL|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED"
    r"|MAY|OPTIONAL)\b"
)
_LEVEL: dict[str, RequirementLevel] = {
    "MUST": "must",
    "MUST NOT": "must",
    "REQUIRED": "must",
    "SHALL": "must",
    "SHALL NOT": "must",
    "SHOULD": "should",
    "SHOULD NOT": "should",
    "RECOMMENDED": "should",
    "NOT RECOMMENDED": "should",
    "MAY": "may",
    "OPTIONAL": "may",
}
_RANK = {"must": 0, "should": 1, "may": 2}
#: Longest title a generated per-requirement item gets; the full text is its description.
TITLE_MAX = 120


def strongest_keyword(text: str) -> tuple[RequirementLevel, str] | None:
    """The strongest upper-case RFC 2119 keyword in ``text`` and its level, or None."""
    best: tuple[RequirementLevel, str] | None = None
    for match in _KEYWORD.finditer(text):
        keyword = match.group(1)
        level = _LEVEL[keyword]
        if best is None or _RANK[level] < _RANK[best[0]]:
            best = (level, keyword)
            if level == "must":
                break
    return best


def requirement_id(section_anchor: str | None, n: int) -> str:
    """``<section-anchor>-r<n>`` (``r<n>`` before the first heading)."""
    return f"{section_anchor}-r{n}" if section_anchor else f"r{n}"


def _short_title(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= TITLE_MAX:
        return text
    return text[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"


def generate_items(
    mode: str, requirements: list[Requirement], sections: list[Section]
) -> list[WorkItem]:
    """Work items for ``requirements: checklist`` (one per section) or ``issues`` (one each)."""
    if mode == "issues":
        return [
            WorkItem(
                id=req.id,
                title=_short_title(req.text),
                line=req.line,
                description=req.text,
                section=req.section,
                generated=True,
                raw_title=req.text,
            )
            for req in requirements
        ]
    if mode != "checklist":
        return []
    titles = {s.anchor: s.title for s in sections}
    by_section: dict[str | None, list[Requirement]] = {}
    for req in requirements:
        by_section.setdefault(req.section, []).append(req)
    items = []
    for anchor, reqs in by_section.items():
        title = titles.get(anchor, "") if anchor else ""
        items.append(
            WorkItem(
                id=f"{anchor}-requirements" if anchor else "requirements",
                title=f"Requirements: {title}" if title else "Requirements",
                line=reqs[0].line,
                description="\n".join(f"- [ ] {' '.join(r.text.split())}" for r in reqs),
                section=anchor,
                generated=True,
            )
        )
    return items
