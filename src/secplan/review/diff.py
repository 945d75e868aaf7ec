"""Line arithmetic on one file's unified diff, as GitLab serves it in a merge request.

GitLab's diff of a file (the ``diff`` field of ``GET /projects/:id/merge_requests/:iid/diffs``
and of a diff version) is the hunks of ``git diff`` without the ``---``/``+++`` header: lines
``@@ -a,b +c,d @@``, then `` `` (unchanged), ``-`` (removed), ``+`` (added) and ``\\`` (no
newline at end of file). From it this module answers what a diff position needs: is a line
added, removed, unchanged inside a hunk, or outside every hunk, and which line it is on the
other side. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

LineKind = Literal["added", "removed", "unchanged", "outside"]


@dataclass
class FileDiff:
    """One file's hunks: for each side the lines the diff shows, and how they pair up."""

    old_path: str
    new_path: str
    new_file: bool = False
    deleted_file: bool = False
    renamed_file: bool = False
    #: GitLab left the hunks out (``too_large`` / ``collapsed``): no line is known to be in them
    unknown: bool = False
    #: new line -> old line (and back) for unchanged lines inside hunks
    context_new_to_old: dict[int, int] = field(default_factory=dict)
    context_old_to_new: dict[int, int] = field(default_factory=dict)
    added: set[int] = field(default_factory=set)  # new-side line numbers
    removed: set[int] = field(default_factory=set)  # old-side line numbers
    #: (old_start, old_count, new_start, new_count) per hunk, in order
    hunks: list[tuple[int, int, int, int]] = field(default_factory=list)

    def new_kind(self, line: int) -> LineKind:
        """What new-side ``line`` is in this diff: added, unchanged inside a hunk, or outside
        (also when GitLab left the hunks out: no diff thread can be started on it then)."""
        if line in self.added:
            return "added"
        if line in self.context_new_to_old:
            return "unchanged"
        return "outside"

    def old_kind(self, line: int) -> LineKind:
        """What old-side ``line`` is: removed, unchanged inside a hunk, or outside."""
        if line in self.removed:
            return "removed"
        if line in self.context_old_to_new:
            return "unchanged"
        return "outside"

    def new_to_old(self, line: int) -> int | None:
        """The old-side line of new-side ``line``; None for an added line."""
        if line in self.added:
            return None
        if line in self.context_new_to_old:
            return self.context_new_to_old[line]
        # Outside the hunks the two sides are shifted by what the hunks before added or removed.
        shift = 0
        for old_start, old_count, new_start, new_count in self.hunks:
            if new_start + new_count <= line:
                shift = (old_start + old_count) - (new_start + new_count)
            else:
                break
        return line + shift

    def old_to_new(self, line: int) -> int | None:
        """The new-side line of old-side ``line``; None for a removed line."""
        if line in self.removed:
            return None
        if line in self.context_old_to_new:
            return self.context_old_to_new[line]
        shift = 0
        for old_start, old_count, new_start, new_count in self.hunks:
            if old_start + old_count <= line:
                shift = (new_start + new_count) - (old_start + old_count)
            else:
                break
        return line + shift


def parse_file_diff(data: dict[str, object]) -> FileDiff:
    """A :class:`FileDiff` from one element of GitLab's ``diffs`` list."""
    fd = FileDiff(
        old_path=str(data.get("old_path") or data.get("new_path") or ""),
        new_path=str(data.get("new_path") or data.get("old_path") or ""),
        new_file=bool(data.get("new_file")),
        deleted_file=bool(data.get("deleted_file")),
        renamed_file=bool(data.get("renamed_file")),
        unknown=bool(data.get("too_large") or data.get("collapsed")) and not data.get("diff"),
    )
    old = new = 0
    for raw in str(data.get("diff") or "").split("\n"):
        m = _HUNK.match(raw)
        if m:
            old_count = int(m[2]) if m[2] is not None else 1
            new_count = int(m[4]) if m[4] is not None else 1
            # An empty side ("-0,0", "+5,0") names the line *before* where the range would be.
            old = int(m[1]) if old_count else int(m[1]) + 1
            new = int(m[3]) if new_count else int(m[3]) + 1
            fd.hunks.append((old, old_count, new, new_count))
            continue
        if not fd.hunks or not raw or raw.startswith("\\"):
            continue
        tag = raw[0]
        if tag == "+":
            fd.added.add(new)
            new += 1
        elif tag == "-":
            fd.removed.add(old)
            old += 1
        elif tag == " ":
            fd.context_new_to_old[new] = old
            fd.context_old_to_new[old] = new
            old += 1
            new += 1
    return fd


def find_diff(
    diffs: list[FileDiff], *, new_path: str | None = None, old_path: str | None = None
) -> FileDiff | None:
    """The diff of the file with this new (or old) path, if the merge request changes it."""
    for fd in diffs:
        if new_path is not None and fd.new_path == new_path and not fd.deleted_file:
            return fd
        if old_path is not None and fd.old_path == old_path and not fd.new_file:
            return fd
    return None
