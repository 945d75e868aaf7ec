"""``secplan breakdown --write``: the proposals as a ``## Work breakdown`` section.

Items are task-list items in the plan format's syntax, milestones go into the front matter
(through :mod:`secplan.handbook.frontmatter_edit`). Nothing else changes: the section is added
after the last line of an existing ``## Work breakdown`` section, or at the end of the file,
in the file's own line endings; a byte-order mark stays where it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from secplan.breakdown.propose import BREAKDOWN_ANCHOR, BREAKDOWN_TITLE, Breakdown, Proposal
from secplan.breakdown.text import open_fence
from secplan.handbook.catalog import atomic_write
from secplan.handbook.frontmatter_edit import FrontMatterEdit, edit_front_matter_text
from secplan.model import Plan

# Words of a title the item syntax would read as tokens (%milestone, ~label, @user, #12, {#id}).
_TOKEN_START = re.compile(r"(?<!\S)([%~@])(?=\S)|#(?=\d)|\{(?=[#:])")


def _safe(title: str) -> str:
    return _TOKEN_START.sub(lambda m: (m.group(1) or m.group(0)) + " ", title)


def _item_line(item: Proposal) -> str:
    parts = [f"- [ ] {_safe(item.title)}"]
    if item.milestone:
        parts.append('%"' + item.milestone.replace('"', "'") + '"')
    if item.ref:
        parts.append(item.ref)
    return " ".join(parts)


def render_section(plan: Plan, breakdown: Breakdown, newline: str = "\n") -> str:
    """The lines ``--write`` adds for ``breakdown``'s items (heading included when new)."""
    lines = []
    for item in breakdown.items:
        lines.append(_item_line(item))
        section = plan.section(item.section)
        where = f"[{section.title}](#{section.anchor})" if section else "the plan"
        lines.append(f"  From {where}, line {item.line}: {item.reason}.")
    if not lines:
        return ""
    if plan.section(BREAKDOWN_ANCHOR) is None:
        lines = [f"## {BREAKDOWN_TITLE}", "", *lines]
    return newline.join(lines) + newline


def _insert_at(plan: Plan, lines: list[str]) -> int:
    """Index in ``lines`` (kept ends) before which the new lines go."""
    section = plan.section(BREAKDOWN_ANCHOR)
    if section is None:
        return len(lines)
    end = min(section.end_line, len(lines))
    while end > section.line and not lines[end - 1].strip():
        end -= 1
    return end


def apply_breakdown(text: str, plan: Plan, breakdown: Breakdown) -> str:
    """``text`` with the breakdown inserted; every other byte as it was."""
    newline = "\r\n" if "\r\n" in text else "\n"
    block = render_section(plan, breakdown, newline)
    if block:
        lines = text.splitlines(keepends=True)
        at = _insert_at(plan, lines)
        before = "".join(lines[:at])
        after = "".join(lines[at:])
        lead = newline if before and not before.endswith(("\n", "\r")) else ""
        if plan.section(BREAKDOWN_ANCHOR) is None:
            fence = open_fence([line.rstrip("\r\n") for line in lines])
            if fence:  # a code block runs to the end of the file: close it first
                lead += fence + newline
            block = lead + newline + block  # a blank line before the new heading
        else:
            block = lead + block + (newline if after else "")
        text = before + block + after
    milestones = [
        {"title": m.title, **({"due": m.due} if m.due else {})} for m in breakdown.milestones
    ]
    if milestones:
        text = edit_front_matter_text(text, FrontMatterEdit(append={"milestones": milestones}))
    return text


def write_breakdown(path: Path, plan: Plan, breakdown: Breakdown) -> bool:
    """Write the breakdown into the plan file; False when there was nothing to add."""
    if not breakdown:
        return False
    text = path.read_bytes().decode("utf-8")
    new = apply_breakdown(text, plan, breakdown)
    if new == text:
        return False
    atomic_write(path, new)
    return True
