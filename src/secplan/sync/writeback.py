"""``--write-back``: write the refs apply made into the plan file, with a minimal diff.

Only two kinds of line ever change: the front matter's ``epic:`` key (set through the
handbook's round-trip front-matter editor: an empty ``epic:`` is replaced, a missing one added at
the end of the front matter), and the first line of a task item (the issue ref is added before a
trailing ``{#item-id}``). Every other byte, line endings included, stays as it was; the new front
matter is parsed again and must differ from the old one only in ``epic``.

Lines are the parser's lines (ended by ``\\n``, ``\\r\\n`` or ``\\r`` only, after a byte-order
mark), never ``str.splitlines()``'s, which also break at U+2028, form feeds and the like. The file
is read and parsed again when the refs are written, so an item is found where it is now; an item
that is gone or whose first line changed since apply gets no ref, and the result is parsed once
more and must show exactly the written refs on exactly those items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from secplan.handbook.catalog import atomic_write
from secplan.markdown import parse_plan
from secplan.model import Plan, WorkItem
from secplan.refs import parse_issue_ref

_TRAILING_ATTR = re.compile(r"(?P<attr>[ \t]*\{[:#][^{}]*\})?(?P<ws>[ \t]*)$")
# A task item's first line, also inside blockquotes (``> - [ ] ...``).
_TASK = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:[-*+]|\d+[.)])\s+\[[ xX]\]")
_EOL = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass
class WriteBack:
    """What write-back did to one plan file."""

    path: Path
    changed_lines: list[int] = field(default_factory=list)  # 1-based
    skipped: list[str] = field(default_factory=list)  # why a ref could not be written

    @property
    def changed(self) -> bool:
        return bool(self.changed_lines)


def split_lines(text: str) -> list[str]:
    """``text`` cut into lines the way the parser counts them, each with its own line end."""
    out: list[str] = []
    start = 0
    for m in _EOL.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _split_eol(line: str) -> tuple[str, str]:
    for eol in ("\r\n", "\n", "\r"):
        if line.endswith(eol):
            return line[: -len(eol)], eol
    return line, ""


def set_epic(lines: list[str], ref: str, wb: WriteBack) -> list[str]:
    """``lines`` (a file without its byte-order mark) with ``epic: REF`` in the front matter if
    it names no epic yet.

    The edit goes through :func:`~secplan.handbook.frontmatter_edit.edit_front_matter_text` on
    a ``\\n``-only copy (only the ``epic`` key's own lines are regenerated); the result is read
    back and must differ from the old front matter in ``epic`` alone. Only the lines the editor
    changed are taken over, ended like their neighbour; every other line keeps its own ending.
    """
    from secplan.errors import SecplanError
    from secplan.handbook.frontmatter_edit import (
        FrontMatterEdit,
        edit_front_matter_text,
        read_front_matter,
    )

    bodies = [_split_eol(line)[0] for line in lines]
    ends_open = bool(lines) and not _split_eol(lines[-1])[1]
    text = "\n".join(bodies) + ("" if ends_open or not lines else "\n")
    if not _has_front_matter(bodies):
        wb.skipped.append("the plan has no front matter to hold 'epic:'")
        return lines
    before = read_front_matter(text)
    if before.get("epic"):
        return lines  # the plan already names an epic; never replace it
    try:
        new = edit_front_matter_text(text, FrontMatterEdit(set={"epic": ref}), path=wb.path)
    except SecplanError as exc:
        wb.skipped.append(f"could not add 'epic:' to the front matter: {exc.message}")
        return lines
    after = read_front_matter(new)
    if after.get("epic") != ref:
        wb.skipped.append("could not add 'epic:' to the front matter safely")
        return lines
    if {k: v for k, v in before.items() if k != "epic"} != {
        k: v for k, v in after.items() if k != "epic"
    }:
        wb.skipped.append("adding 'epic:' would change other front matter keys")
        return lines
    new_bodies = new.split("\n")
    if not ends_open:
        new_bodies.pop()  # the text ended with a line end: no line after it
    head = 0
    while head < min(len(bodies), len(new_bodies)) and bodies[head] == new_bodies[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(bodies), len(new_bodies)) - head
        and bodies[-1 - tail] == new_bodies[-1 - tail]
    ):
        tail += 1
    eol = _split_eol(lines[max(head - 1, 0)])[1] or "\n"
    middle = [body + eol for body in new_bodies[head : len(new_bodies) - tail]]
    wb.changed_lines.append(head + 1)
    return lines[:head] + middle + lines[len(lines) - tail :]


def _has_front_matter(bodies: list[str]) -> bool:
    return (
        bool(bodies)
        and bodies[0].rstrip() == "---"
        and any(line.rstrip() in ("---", "...") for line in bodies[1:])
    )


def add_item_ref(lines: list[str], line_no: int, ref: str, wb: WriteBack, item: str) -> bool:
    """Add `` ref`` to the first line of the task item at ``line_no`` (1-based), in place;
    whether the line changed."""
    i = line_no - 1
    if not 0 <= i < len(lines):
        wb.skipped.append(f"item '{item}': line {line_no} is outside the file")
        return False
    body, eol = _split_eol(lines[i])
    if not _TASK.match(body):
        wb.skipped.append(f"item '{item}': line {line_no} is not a task item")
        return False
    if re.search(rf"(?<![\w/]){re.escape(ref)}(?!\d)", body):
        return False
    m = _TRAILING_ATTR.search(body)
    assert m is not None  # the pattern matches the empty tail of any string
    head = body[: m.start()].rstrip(" \t")
    lines[i] = f"{head} {ref}{m['attr'] or ''}{m['ws']}{eol}"
    wb.changed_lines.append(line_no)
    return True


def _reparse(plan: Plan, text: str) -> Plan:
    return parse_plan(
        text,
        plan_id=plan.id,
        path=plan.path,
        rel_path=plan.rel_path,
        default_project=plan.tracker,
    )


def _items(plan: Plan) -> dict[str, WorkItem]:
    return {it.id: it for it in plan.items if not it.generated}


def _same_ref(written: str, parsed: str | None) -> bool:
    a, b = parse_issue_ref(written), parse_issue_ref(parsed or "")
    return a is not None and b is not None and (a.path, a.iid) == (b.path, b.iid)


def write_back(plan: Plan, epic_ref: str | None, item_refs: dict[str, str]) -> WriteBack:
    """Write ``epic_ref`` (when the plan names none) and the refs of items that carry none.

    ``plan`` is the plan as apply saw it; the file is read and parsed again here, and a ref is
    written only onto the item apply made it for, on the line that item has now.
    """
    wb = WriteBack(path=plan.path)
    try:
        text = plan.path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        wb.skipped.append(f"cannot read the file again: {getattr(exc, 'strerror', None) or exc}")
        return wb
    now = _reparse(plan, text)
    bom = _BOM if text.startswith(_BOM) else ""
    lines = split_lines(text[len(bom) :])
    applied, current = _items(plan), _items(now)
    todo: list[tuple[int, str, str]] = []
    for item, ref in item_refs.items():
        seen = applied.get(item)
        if seen is None or seen.ref:
            continue
        found = current.get(item)
        if found is None:
            wb.skipped.append(f"item '{item}' is no longer in the file; {ref} was not written")
        elif found.raw_title != seen.raw_title:
            wb.skipped.append(
                f"item '{item}' changed since apply (line {found.line}); {ref} was not written"
            )
        elif not found.ref:
            todo.append((found.line, item, ref))
    # Items first, from the bottom up: inserting ``epic:`` may add a line above them.
    written = {
        item: ref
        for line_no, item, ref in sorted(todo, reverse=True)
        if add_item_ref(lines, line_no, ref, wb, item)
    }
    epic_written = False
    if epic_ref and not plan.epic and not now.epic:
        new_lines = set_epic(lines, epic_ref, wb)
        epic_written, lines = new_lines is not lines, new_lines
    new_text = bom + "".join(lines)
    if not wb.changed or new_text == text:
        return wb
    problem = _check(now, _reparse(plan, new_text), written, epic_written)
    if problem:
        wb.skipped.append(f"nothing written: {problem}")
        wb.changed_lines.clear()
        return wb
    # A crash mid-write must never leave a half-written plan.
    atomic_write(plan.path, new_text)
    return wb


def _check(before: Plan, after: Plan, written: dict[str, str], epic_written: bool) -> str:
    """Why the edited file does not say exactly what write-back meant ('' when it does)."""
    old, new = _items(before), _items(after)
    if list(old) != list(new):
        return "the edit would change the plan's items"
    for item, it in new.items():
        ref = written.get(item)
        if ref is not None and not _same_ref(ref, it.ref):
            return f"item '{item}' would not read as {ref}"
        if ref is None and it.ref != old[item].ref:
            return f"item '{item}' would change"
    if epic_written and not after.epic:
        return "the front matter would not name the epic"
    return ""
