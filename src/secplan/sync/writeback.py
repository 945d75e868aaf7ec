"""``--write-back``: write the refs apply made into the plan file, with a minimal diff.

Only two kinds of line ever change: the front matter's ``epic:`` line (replaced when empty, added
before the closing ``---`` when absent), and the first line of a task item (the issue ref is
added before a trailing ``{#item-id}``). Every other byte, line endings included, stays as it was;
the new front matter is parsed again and must differ from the old one only in ``epic``.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from secplan.model import Plan

_EMPTY_EPIC = re.compile(r"^epic:[ \t]*(?:(?:\"\"|''|null|~|Null|NULL)[ \t]*)?(?:#.*)?$")
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


def _front_matter_span(lines: list[str]) -> tuple[int, int] | None:
    """Indices of the opening and closing ``---`` lines, if the file has front matter."""
    if not lines or _split_eol(lines[0])[0].rstrip() != "---":
        return None
    for i in range(1, len(lines)):
        if _split_eol(lines[i])[0].rstrip() in ("---", "..."):
            return 0, i
    return None


def _load(text: str) -> Any:
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None


def _yaml_scalar(ref: str) -> str:
    loaded = _load(f"epic: {ref}\n")
    if isinstance(loaded, dict) and loaded.get("epic") == ref:
        return ref
    return '"' + ref.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_epic(lines: list[str], ref: str, wb: WriteBack) -> None:
    """Set ``epic:`` in the front matter of ``lines`` (in place) if it is empty or absent."""
    span = _front_matter_span(lines)
    eol = _split_eol(lines[0])[1] or "\n" if lines else "\n"
    if span is None:
        wb.skipped.append("the plan has no front matter to hold 'epic:'")
        return
    start, end = span
    before = _load("".join(lines[start + 1 : end]))
    if before is not None and not isinstance(before, dict):
        wb.skipped.append("the front matter is not a mapping")
        return
    before = before or {}
    if before.get("epic"):
        return  # the plan already names an epic; never replace it
    new_line = f"epic: {_yaml_scalar(ref)}"
    candidate = list(lines)
    target = None
    for i in range(start + 1, end):
        body, line_eol = _split_eol(lines[i])
        if _EMPTY_EPIC.match(body):
            candidate[i] = new_line + line_eol
            target = i
            break
    if target is None:
        candidate.insert(end, new_line + eol)
        target = end
        end += 1
    after = _load("".join(candidate[start + 1 : end]))
    if not isinstance(after, dict) or after.get("epic") != ref:
        wb.skipped.append("could not add 'epic:' to the front matter safely")
        return
    rest_before = {k: v for k, v in before.items() if k != "epic"}
    rest_after = {k: v for k, v in after.items() if k != "epic"}
    if rest_before != rest_after:
        wb.skipped.append("adding 'epic:' would change other front matter keys")
        return
    lines[:] = candidate
    wb.changed_lines.append(target + 1)


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


def _write_atomic(path: Path, data: bytes) -> None:
    # A crash mid-write must never leave a half-written plan.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_back(plan: Plan, epic_ref: str | None, item_refs: dict[str, str]) -> WriteBack:
    """Write ``epic_ref`` (when the plan names none) and the refs of items that carry none."""
    wb = WriteBack(path=plan.path)
    raw = plan.path.read_bytes()
    text = raw.decode("utf-8")
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
    if epic_ref and not plan.epic:
        set_epic(lines, epic_ref, wb)
    if wb.changed:
        new = "".join(lines).encode("utf-8")
        if new != raw:
            _write_atomic(plan.path, new)
    return wb
