"""``--write-back``: write the refs apply made into the plan file, with a minimal diff.

Only two kinds of line ever change: the front matter's ``epic:`` key (set through the
handbook's round-trip front-matter editor: an empty ``epic:`` is replaced, a missing one added at
the end of the front matter), and the first line of a task item (the issue ref is added before a
trailing ``{#item-id}``). Every other byte, line endings included, stays as it was; the new front
matter is parsed again and must differ from the old one only in ``epic``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from secplan.handbook.catalog import atomic_write
from secplan.model import Plan

_TRAILING_ATTR = re.compile(r"(?P<attr>[ \t]*\{[:#][^{}]*\})?(?P<ws>[ \t]*)$")
_TASK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]")


@dataclass
class WriteBack:
    """What write-back did to one plan file."""

    path: Path
    changed_lines: list[int] = field(default_factory=list)  # 1-based
    skipped: list[str] = field(default_factory=list)  # why a ref could not be written

    @property
    def changed(self) -> bool:
        return bool(self.changed_lines)


def _split_eol(line: str) -> tuple[str, str]:
    for eol in ("\r\n", "\n", "\r"):
        if line.endswith(eol):
            return line[: -len(eol)], eol
    return line, ""


def set_epic(text: str, ref: str, wb: WriteBack) -> str:
    """``text`` with ``epic: REF`` in its front matter if it names no epic yet.

    The edit goes through :func:`~secplan.handbook.frontmatter_edit.edit_front_matter_text`
    (only the ``epic`` key's own lines are regenerated); the result is read back and must differ
    from the old front matter in ``epic`` alone.
    """
    from secplan.errors import SecplanError
    from secplan.handbook.frontmatter_edit import (
        FrontMatterEdit,
        edit_front_matter_text,
        read_front_matter,
    )

    if not _has_front_matter(text):
        wb.skipped.append("the plan has no front matter to hold 'epic:'")
        return text
    before = read_front_matter(text)
    if before.get("epic"):
        return text  # the plan already names an epic; never replace it
    try:
        new = edit_front_matter_text(text, FrontMatterEdit(set={"epic": ref}), path=wb.path)
    except SecplanError as exc:
        wb.skipped.append(f"could not add 'epic:' to the front matter: {exc.message}")
        return text
    after = read_front_matter(new)
    if after.get("epic") != ref:
        wb.skipped.append("could not add 'epic:' to the front matter safely")
        return text
    if {k: v for k, v in before.items() if k != "epic"} != {
        k: v for k, v in after.items() if k != "epic"
    }:
        wb.skipped.append("adding 'epic:' would change other front matter keys")
        return text
    wb.changed_lines.append(_epic_line(new))
    return new


def _has_front_matter(text: str) -> bool:
    first, _, rest = text.lstrip("\ufeff").partition("\n")
    return first.rstrip() == "---" and any(
        line.rstrip() in ("---", "...") for line in rest.splitlines()
    )


def _epic_line(text: str) -> int:
    """1-based line of the top-level ``epic:`` key in the front matter of ``text``."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.rstrip() in ("---", "..."):
            break
        if line.startswith("epic:"):
            return number
    return 1


def add_item_ref(lines: list[str], line_no: int, ref: str, wb: WriteBack, item: str) -> None:
    """Add `` ref`` to the first line of the task item at ``line_no`` (1-based), in place."""
    i = line_no - 1
    if not 0 <= i < len(lines):
        wb.skipped.append(f"item '{item}': line {line_no} is outside the file")
        return
    body, eol = _split_eol(lines[i])
    if not _TASK.match(body):
        wb.skipped.append(f"item '{item}': line {line_no} is not a task item")
        return
    if re.search(rf"(?<![\w/]){re.escape(ref)}(?!\d)", body):
        return
    m = _TRAILING_ATTR.search(body)
    assert m is not None  # the pattern matches the empty tail of any string
    head = body[: m.start()].rstrip(" \t")
    lines[i] = f"{head} {ref}{m['attr'] or ''}{m['ws']}{eol}"
    wb.changed_lines.append(line_no)


def write_back(plan: Plan, epic_ref: str | None, item_refs: dict[str, str]) -> WriteBack:
    """Write ``epic_ref`` (when the plan names none) and the refs of items that carry none."""
    wb = WriteBack(path=plan.path)
    text = plan.path.read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    # Items first, from the bottom up: inserting ``epic:`` may add a line above them.
    by_id = {it.id: it for it in plan.items if not it.generated}
    todo = [
        (by_id[item].line, item, ref)
        for item, ref in item_refs.items()
        if item in by_id and not by_id[item].ref
    ]
    for line_no, item, ref in sorted(todo, reverse=True):
        add_item_ref(lines, line_no, ref, wb, item)
    new_text = "".join(lines)
    if epic_ref and not plan.epic:
        new_text = set_epic(new_text, epic_ref, wb)
    if wb.changed and new_text != text:
        # A crash mid-write must never leave a half-written plan.
        atomic_write(plan.path, new_text)
    return wb
