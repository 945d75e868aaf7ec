"""Where a merge request's diff position falls in a plan: file, line, section anchor.

Pure: a GitLab diff position plus the merge request's latest version, its diffs and a reader
of file text at a commit give a :class:`Placed` (path, line, side, commit, outdated); a plan's
parsed sections then give the anchor. No HTTP here, so every case unit-tests on strings.

GitLab's rules for a text position (https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff):
an added line has only ``new_line``, a removed line only ``old_line`` (a line of the file at
``base_sha``), an unchanged line both. A position is *outdated* when its ``head_sha`` is not the
merge request's latest version's head (https://docs.gitlab.com/api/merge_requests/#get-merge-request-diff-versions);
such a line is carried to the latest version by matching the file's text at the two commits
line by line, and stays outdated only when its line was changed or removed since.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from secplan.handbook.files import CATALOG_NAMES, is_plan_name, plan_id
from secplan.model import Plan, Section
from secplan.review.diff import FileDiff, find_diff

Side = Literal["new", "old"]
#: (path, commit sha) -> the file's text at that commit, or None when it is not there.
Reader = Callable[[str, str], str | None]


@dataclass(frozen=True)
class DiffPosition:
    """The ``position`` of a GitLab DiffNote (``position_type`` ``text``)."""

    base_sha: str
    start_sha: str
    head_sha: str
    old_path: str
    new_path: str
    old_line: int | None
    new_line: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiffPosition | None:
        """The position of a note's JSON; None for a note on no line (an image, a file)."""
        if data.get("position_type", "text") != "text":
            return None
        old_line, new_line = _int(data.get("old_line")), _int(data.get("new_line"))
        if old_line is None and new_line is None:
            return None
        new_path = str(data.get("new_path") or data.get("old_path") or "")
        return cls(
            base_sha=str(data.get("base_sha") or ""),
            start_sha=str(data.get("start_sha") or ""),
            head_sha=str(data.get("head_sha") or ""),
            old_path=str(data.get("old_path") or new_path),
            new_path=new_path,
            old_line=old_line,
            new_line=new_line,
        )


@dataclass(frozen=True)
class Version:
    """One diff version of a merge request (GitLab makes one per push)."""

    id: int
    head_sha: str
    base_sha: str
    start_sha: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Version:
        """From an element of ``GET .../merge_requests/:iid/versions``."""
        return cls(
            id=int(data["id"]),
            head_sha=str(data.get("head_commit_sha") or ""),
            base_sha=str(data.get("base_commit_sha") or ""),
            start_sha=str(data.get("start_commit_sha") or ""),
        )


@dataclass(frozen=True)
class Placed:
    """A line of a file at a commit. ``side`` ``new``: the file at the latest head (or, when
    outdated, at the position's own head); ``old``: the file at the base (a removed line)."""

    path: str
    line: int
    side: Side
    commit: str
    outdated: bool = False


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def carry_line(before: str, after: str, line: int) -> int | None:
    """Line ``line`` of ``before`` in ``after``, when that line is unchanged between the two
    texts (difflib's matching blocks); None when it was changed or removed."""
    a, b = before.split("\n"), after.split("\n")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    index = line - 1
    for i, j, size in matcher.get_matching_blocks():
        if i <= index < i + size:
            return j + (index - i) + 1
    return None


def place(
    position: DiffPosition,
    latest: Version,
    latest_diffs: list[FileDiff],
    read: Reader,
) -> Placed:
    """Where ``position`` is in the latest version (see the module docstring)."""
    if position.head_sha == latest.head_sha or not position.head_sha:
        if position.new_line is not None:
            return Placed(position.new_path, position.new_line, "new", latest.head_sha)
        assert position.old_line is not None
        return Placed(position.old_path, position.old_line, "old", position.base_sha)
    if position.new_line is not None:
        return _carry_new(position, position.new_line, latest, latest_diffs, read)
    assert position.old_line is not None
    return _carry_old(position, position.old_line, latest, latest_diffs, read)


def _latest_new_path(path: str, base_path: str, latest_diffs: list[FileDiff]) -> str:
    """The file's path at the latest head: renamed by the latest diff, else unchanged."""
    fd = find_diff(latest_diffs, old_path=base_path)
    if fd is not None and fd.new_path != path and find_diff(latest_diffs, new_path=path) is None:
        return fd.new_path
    return path


def _carry_new(
    pos: DiffPosition, line: int, latest: Version, diffs: list[FileDiff], read: Reader
) -> Placed:
    stale = Placed(pos.new_path, line, "new", pos.head_sha, outdated=True)
    before = read(pos.new_path, pos.head_sha)
    target = _latest_new_path(pos.new_path, pos.old_path, diffs)
    after = read(target, latest.head_sha)
    if before is None or after is None:
        return stale
    moved = carry_line(before, after, line)
    return stale if moved is None else Placed(target, moved, "new", latest.head_sha)


def _carry_old(
    pos: DiffPosition, line: int, latest: Version, diffs: list[FileDiff], read: Reader
) -> Placed:
    stale = Placed(pos.old_path, line, "old", pos.base_sha, outdated=True)
    if pos.base_sha == latest.base_sha:
        base_line: int | None = line
    else:  # the branch was rebased: find the line in the new base
        before, after = read(pos.old_path, pos.base_sha), read(pos.old_path, latest.base_sha)
        base_line = None if before is None or after is None else carry_line(before, after, line)
    if base_line is None:
        return stale
    fd = find_diff(diffs, old_path=pos.old_path)
    if fd is None:  # the latest version leaves the file alone: the line is unchanged
        return Placed(pos.old_path, base_line, "new", latest.head_sha)
    if fd.unknown:  # GitLab left this file's hunks out: compare the texts instead
        base_text = read(pos.old_path, latest.base_sha)
        head_text = read(fd.new_path, latest.head_sha)
        if base_text is None or head_text is None:
            return Placed(pos.old_path, base_line, "old", latest.base_sha)
        there = carry_line(base_text, head_text, base_line)
        if there is None:
            return Placed(pos.old_path, base_line, "old", latest.base_sha)
        return Placed(fd.new_path, there, "new", latest.head_sha)
    new_line = fd.old_to_new(base_line)
    if new_line is None:  # still removed by the latest version
        return Placed(pos.old_path, base_line, "old", latest.base_sha)
    return Placed(fd.new_path, new_line, "new", latest.head_sha)


# -- files and sections ---------------------------------------------------------------------


def plan_id_for(repo_path: str, prefix: str) -> str | None:
    """The plan id of a repository path, for a handbook at ``prefix`` in the repository
    ("" for the top); None when the path is not a plan file of that handbook."""
    rel = repo_path.strip("/")
    if prefix:
        if not rel.startswith(prefix.rstrip("/") + "/"):
            return None
        rel = rel[len(prefix.rstrip("/")) + 1 :]
    parts = rel.split("/")
    if not rel or not is_plan_name(parts[-1]) or any(p.startswith(".") for p in parts):
        return None
    if len(parts) == 1 and parts[0] in CATALOG_NAMES:
        return None  # the catalog page
    return plan_id(rel)


def section_at(plan: Plan, line: int) -> Section | None:
    """The innermost section ``line`` is in (its heading line included); None above the first
    heading (front matter, the introduction)."""
    found: Section | None = None
    for section in plan.sections:
        end = section.end_line or section.line
        if section.line <= line <= max(end, section.line) and (
            found is None or section.line >= found.line
        ):
            found = section
    return found
