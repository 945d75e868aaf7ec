"""The pure part of review in merge requests: diff hunks, carrying lines between versions,
and sections of a plan at a line. Diffs are made by the fake's ``file_diff`` (difflib's
unified diff in GitLab's ``diffs`` shape), so the arithmetic is checked against real hunks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secplan.markdown import parse_plan
from secplan.refs import MergeRequestRef, parse_mr_ref
from secplan.review.diff import parse_file_diff
from secplan.review.positions import (
    DiffPosition,
    Version,
    carry_line,
    place,
    plan_id_for,
    section_at,
)
from tests.gitlab_fake.merge_requests import file_diff

BASE = "\n".join(
    [
        "---",  # 1
        "title: Rotation",  # 2
        "status: review",  # 3
        "---",  # 4
        "",  # 5
        "# Rotation",  # 6
        "",  # 7
        "## Goals",  # 8
        "",  # 9
        "Rotate every secret.",  # 10
        "",  # 11
        "## Rollout",  # 12
        "",  # 13
        "Stage one.",  # 14
        "Stage two.",  # 15
        "",  # 16
        "## Risks",  # 17
        "",  # 18
        "Leaks.",  # 19
        "",
    ]
)
# Head: a line added in Goals (new 11), "Stage two." removed, a line added in Risks.
HEAD = BASE.replace("Rotate every secret.\n", "Rotate every secret.\nWeekly, by a pipeline.\n")
HEAD = HEAD.replace("Stage two.\n", "").replace("Leaks.\n", "Leaks.\nOutages.\n")


def test_hunks_classify_and_pair_lines() -> None:
    fd = parse_file_diff(file_diff("p.md", "p.md", BASE, HEAD))
    assert fd.new_kind(11) == "added"  # "Weekly, by a pipeline."
    assert fd.old_kind(15) == "removed"  # "Stage two."
    assert fd.new_kind(10) == "unchanged" and fd.new_to_old(10) == 10
    assert fd.new_kind(2) == "outside"
    # after the added line, new = old + 1; after the removed one, back to old
    assert fd.new_to_old(13) == 12 and fd.old_to_new(12) == 13
    assert fd.old_to_new(17) == 17 and fd.new_to_old(17) == 17
    assert fd.new_to_old(11) is None and fd.old_to_new(15) is None


def test_empty_sides_of_new_and_deleted_files() -> None:
    new = parse_file_diff(file_diff("n.md", "n.md", None, "a\nb\n"))
    assert new.new_file and new.added == {1, 2}
    gone = parse_file_diff(file_diff("g.md", "g.md", "a\nb\n", None))
    assert gone.deleted_file and gone.removed == {1, 2}


def test_carry_line_between_texts() -> None:
    assert carry_line(BASE, HEAD, 14) == 15  # "Stage one." moved down by the added line
    assert carry_line(BASE, HEAD, 15) is None  # "Stage two." is gone
    assert carry_line(BASE, HEAD, 1) == 1


def _pos(
    v: Version, path: str, *, new: int | None, old: int | None, old_path: str | None = None
) -> DiffPosition:
    return DiffPosition(v.base_sha, v.start_sha, v.head_sha, old_path or path, path, old, new)


V1 = Version(1, "h1", "b", "b")
V2 = Version(2, "h2", "b", "b")


def test_current_positions_keep_their_side() -> None:
    diffs = [parse_file_diff(file_diff("p.md", "p.md", BASE, HEAD))]
    added = place(_pos(V2, "p.md", new=11, old=None), V2, diffs, lambda p, s: None)
    assert (added.line, added.side, added.commit, added.outdated) == (11, "new", "h2", False)
    removed = place(_pos(V2, "p.md", new=None, old=15), V2, diffs, lambda p, s: None)
    assert (removed.line, removed.side, removed.commit) == (15, "old", "b")


def test_outdated_position_is_carried_or_marked() -> None:
    v1_head = BASE.replace("Leaks.\n", "Leaks.\nOutages.\n")  # push 1 added only the risk line
    files = {("p.md", "h1"): v1_head, ("p.md", "h2"): HEAD, ("p.md", "b"): BASE}
    read = lambda path, sha: files.get((path, sha))  # noqa: E731
    latest = [parse_file_diff(file_diff("p.md", "p.md", BASE, HEAD))]
    # "Outages." (line 20 in push 1) is line 20 in push 2 as well: one line added, one removed
    moved = place(_pos(V1, "p.md", new=20, old=None), V2, latest, read)
    assert (moved.line, moved.side, moved.commit, moved.outdated) == (20, "new", "h2", False)
    # "Stage two." (line 15 in push 1) was removed by push 2: outdated, at its own commit
    stale = place(_pos(V1, "p.md", new=15, old=15), V2, latest, read)
    assert (stale.line, stale.commit, stale.outdated) == (15, "h1", True)


def test_outdated_removed_line_still_removed_stays_on_the_old_side() -> None:
    latest = [parse_file_diff(file_diff("p.md", "p.md", BASE, HEAD))]
    placed = place(_pos(V1, "p.md", new=None, old=15), V2, latest, lambda p, s: None)
    assert (placed.line, placed.side, placed.commit, placed.outdated) == (15, "old", "b", False)
    # and a removed line the latest push put back is on the new side again
    kept = [parse_file_diff(file_diff("p.md", "p.md", BASE, BASE + "More.\n"))]
    back = place(_pos(V1, "p.md", new=None, old=15), V2, kept, lambda p, s: None)
    assert (back.line, back.side, back.commit) == (15, "new", "h2")


def test_rename_in_the_latest_version_follows_the_file() -> None:
    files = {("old.md", "h1"): BASE, ("new.md", "h2"): HEAD}
    latest = [parse_file_diff(file_diff("old.md", "new.md", BASE, HEAD))]
    placed = place(_pos(V1, "old.md", new=14, old=14), V2, latest, lambda p, s: files.get((p, s)))
    assert (placed.path, placed.line, placed.outdated) == ("new.md", 15, False)


def test_sections_at_lines() -> None:
    plan = parse_plan(HEAD, plan_id="p")
    assert section_at(plan, 3) is None  # front matter
    found = section_at(plan, 11)
    assert found is not None and found.anchor == "goals"
    heading = section_at(plan, 8)
    assert heading is not None and heading.anchor == "goals"
    last = section_at(plan, 19)
    assert last is not None and last.anchor == "risks"


@pytest.mark.parametrize(
    ("path", "prefix", "expected"),
    [
        ("plans/a.md", "", "plans/a"),
        ("handbook/a.md", "handbook", "a"),
        ("handbook/x/index.html.md", "handbook", "x"),
        ("handbook/index.md", "handbook", None),  # the catalog page
        ("src/a.md", "handbook", None),
        ("handbook/.hidden/a.md", "handbook", None),
        ("handbook/a.py", "handbook", None),
    ],
)
def test_plan_ids_of_repository_paths(path: str, prefix: str, expected: str | None) -> None:
    assert plan_id_for(path, prefix) == expected


def test_position_json() -> None:
    assert DiffPosition.from_json({"position_type": "image", "new_line": 1}) is None
    assert DiffPosition.from_json({"position_type": "text", "new_path": "a.md"}) is None
    pos = DiffPosition.from_json(
        {"position_type": "text", "new_path": "b.md", "old_path": "a.md", "new_line": "3"}
    )
    assert pos is not None and (pos.old_path, pos.new_path, pos.new_line) == ("a.md", "b.md", 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sec/planning!12", MergeRequestRef("sec/planning", 12)),
        (
            "https://gitlab.example.com/sec/sub/planning/-/merge_requests/7",
            MergeRequestRef("sec/sub/planning", 7),
        ),
        (
            "https://gitlab.example.com/sec/planning/-/merge_requests/7/diffs#note_3",
            MergeRequestRef("sec/planning", 7),
        ),
        ("!4", MergeRequestRef("sec/planning", 4)),
        ("sec/planning#12", None),
        ("sec/planning!99999999999", None),
    ],
)
def test_merge_request_refs(text: str, expected: MergeRequestRef | None) -> None:
    assert parse_mr_ref(text, default_project="sec/planning") == expected


_LINES = st.lists(st.sampled_from(["a", "b", "c", "", "# h"]), max_size=25)


@settings(max_examples=300, deadline=None)
@given(old=_LINES, new=_LINES)
def test_hunk_arithmetic_agrees_with_the_texts(old: list[str], new: list[str]) -> None:
    """Every line that is not added (removed) has a partner on the other side with the same
    text, whatever the hunks look like (empty sides, files without shared lines...)."""
    old_text = "".join(f"{x}\n" for x in old)
    new_text = "".join(f"{x}\n" for x in new)
    fd = parse_file_diff(file_diff("p.md", "p.md", old_text, new_text))
    for line in range(1, len(new) + 1):
        back = fd.new_to_old(line)
        if line in fd.added:
            assert back is None
        else:
            assert back is not None and old[back - 1] == new[line - 1]
            assert fd.old_to_new(back) == line
    for line in range(1, len(old) + 1):
        if line in fd.removed:
            assert fd.old_to_new(line) is None
        else:
            there = fd.old_to_new(line)
            assert there is not None and new[there - 1] == old[line - 1]
    assert len(fd.added) - len(fd.removed) == len(new) - len(old)


def test_a_diff_gitlab_left_out_is_not_read_as_no_change() -> None:
    left_out = {**file_diff("p.md", "p.md", BASE, HEAD), "diff": "", "too_large": True}
    fd = parse_file_diff(left_out)
    assert fd.unknown and fd.new_kind(12) == "outside"
    files = {("p.md", "b"): BASE, ("p.md", "h2"): HEAD}
    read = lambda path, sha: files.get((path, sha))  # noqa: E731
    removed = place(_pos(V1, "p.md", new=None, old=15), V2, [fd], read)
    assert (removed.side, removed.line, removed.outdated) == ("old", 15, False)
    kept = place(_pos(V1, "p.md", new=None, old=14), V2, [fd], read)  # "Stage one." stayed
    assert (kept.side, kept.line) == ("new", 15)
