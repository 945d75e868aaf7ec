"""When an orphaned issue is the issue of a renamed item (no ref ties them): same section of the
plan, and what sync pushed resembles the new item. The diff decides only when the match is unique.
"""

from __future__ import annotations

import difflib
import re

from secplan.sync.desired import DesiredIssue
from secplan.sync.state import SyncRecord
from secplan.tracker.base import TrackedIssue

#: Title similarity (difflib ratio) from which an orphaned issue follows a renamed item.
RENAME_SIMILARITY = 0.6


def norm_text(text: str | None) -> str:
    """Text as sync compares it, without surrounding blanks or Windows line ends."""
    return (text or "").strip().replace("\r\n", "\n")


_PLAN_LINK = re.compile(r"^Plan: \[.*\]\((?P<link>[^)\s]*)\)\s*$", re.MULTILINE)
_ANY_MARKER = re.compile(r"<!-- secplan:[^>]*-->")


def plan_section(description: str) -> str | None:
    """The section anchor of the plan link sync writes into an issue ("" for none), or None
    when the text has no such link."""
    links = _PLAN_LINK.findall(description or "")
    if not links:
        return None
    link: str = links[-1]
    return link.rsplit("#", 1)[1] if "#" in link else ""


def _body(description: str) -> str:
    """An issue description without the plan link and the marker: the item's own text."""
    return norm_text(_ANY_MARKER.sub("", _PLAN_LINK.sub("", description or "")))


def resembles(d: DesiredIssue, issue: TrackedIssue, rec: SyncRecord | None) -> bool:
    """Whether the text pushed for an orphaned issue (its record, else the tracker's text)
    resembles a new item: the same description and acceptance, or a title similarity of at
    least 0.6."""
    title = str(rec.pushed.get("title") or "") if rec else issue.title
    description = str(rec.pushed.get("description") or "") if rec else issue.description
    body = _body(description)
    if body and body == _body(d.description):
        return True
    ratio = difflib.SequenceMatcher(None, title.casefold(), d.title.casefold()).ratio()
    return ratio >= RENAME_SIMILARITY
