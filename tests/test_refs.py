from __future__ import annotations

import pytest

from secplan.refs import MAX_IID, Ref, iid_too_large, parse_epic_ref, parse_issue_ref, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("security/planning#12", Ref("issue", "security/planning", 12)),
        ("https://gitlab.example.com/g/sub/proj/-/issues/7", Ref("issue", "g/sub/proj", 7)),
        ("https://gitlab.example.com/g/proj/-/work_items/3#note_1", Ref("issue", "g/proj", 3)),
        ("#5", None),
        ("security&4", None),
        ("not a ref", None),
    ],
)
def test_issue_refs(text: str, expected: Ref | None) -> None:
    assert parse_issue_ref(text) == expected


def test_short_issue_ref_needs_a_default_project() -> None:
    assert parse_issue_ref("#5", default_project="sec/plan") == Ref("issue", "sec/plan", 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("g/sub&16", Ref("epic", "g/sub", 16)),
        ("https://host/groups/g/sub/-/epics/16", Ref("epic", "g/sub", 16)),
        ("g/sub#16", None),
    ],
)
def test_epic_refs(text: str, expected: Ref | None) -> None:
    assert parse_epic_ref(text) == expected


def test_str_round_trips_and_group() -> None:
    for text in ("a/b#1", "a/b/c#22", "a&3", "a/b&4"):
        ref = parse_ref(text)
        assert ref is not None and str(ref) == text
    issue = parse_ref("sec/team/proj#9")
    assert issue is not None and issue.group == "sec/team"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # GitLab's epic URL since epics became work items (17.x): a group's work item.
        ("https://gitlab.example.com/groups/sec/-/work_items/5", Ref("epic", "sec", 5)),
        (
            "https://gitlab.example.com/groups/sec/appsec/-/work_items/7/",
            Ref("epic", "sec/appsec", 7),
        ),
        # A project's work item is an issue.
        ("https://gitlab.example.com/sec/plans/-/work_items/5", Ref("issue", "sec/plans", 5)),
    ],
)
def test_work_item_urls_of_groups_are_epics_and_of_projects_issues(url: str, expected: Ref) -> None:
    assert parse_ref(url) == expected
    if expected.kind == "epic":
        assert parse_issue_ref(url) is None


@pytest.mark.parametrize(
    "text",
    [
        "security&99999999999999999999",
        "g/p#2147483648",
        "https://host/g/p/-/issues/99999999999999999999",
        "g/p#" + "9" * 5000,  # int() would refuse this many digits
    ],
)
def test_numbers_no_tracker_can_hold_are_not_references(text: str) -> None:
    assert parse_ref(text) is None
    assert parse_issue_ref(text.replace("&", "#"), default_project="g/p") is None
    assert iid_too_large(text)


def test_the_largest_number_is_still_a_reference() -> None:
    assert parse_ref("g/p#2147483647") == Ref("issue", "g/p", MAX_IID)
    assert parse_epic_ref("&2147483647", default_group="g") == Ref("epic", "g", MAX_IID)
    assert not iid_too_large("g/p#12")
