"""Work items: task-list items, their tokens, descriptions, acceptance criteria and spikes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secplan.markdown import parse_plan
from secplan.markdown.items import acceptance_criteria, split_title
from tests.conftest import FIXTURES


def full_plan():
    return parse_plan((FIXTURES / "parser" / "full-plan.md").read_text(encoding="utf-8"))


def test_items_from_the_fixture() -> None:
    plan = full_plan()
    written = [i for i in plan.items if not i.generated]
    assert [(i.id, i.title, i.milestone, i.line, i.done) for i in written] == [
        ("inventory", "Inventory every runner secret", "Inventory", 51, False),
        (
            "rotate-the-registration-token",
            "Rotate the registration token",
            "Rotation live",
            54,
            True,
        ),
        (
            "spike-can-vault-issue-short-lived-runner-tokens",
            "Spike: can Vault issue short-lived runner tokens?",
            "Inventory",
            56,
            False,
        ),
        ("alert-on-stale-secrets", "Alert on stale secrets", "Rotation live", 57, False),
        ("tbd-decide-on-the-storage-backend", "TBD decide on the storage backend", None, 61, False),
        ("fixme-wording-of-this-item", "FIXME wording of this item", "Inventory", 64, False),
    ]
    assert all(i.section == "work" for i in written)


def test_tokens_labels_assignees_refs() -> None:
    inventory, rotate, spike, alert, *_ = full_plan().items
    assert inventory.labels == ["inventory"] and inventory.assignees == ["alice"]
    assert inventory.explicit_id is True
    assert rotate.labels == ["token hygiene"] and rotate.ref == "security/runners#12"
    # "#34" resolves against the plan's own tracker project.
    assert alert.ref == "security/runners#34"
    assert (
        spike.labels == ["spike"] and spike.spike and spike.timebox == "3d" and spike.has_question
    )


def test_nested_content_is_the_description_and_nested_tasks_stay_in_it() -> None:
    inventory = full_plan().items[0]
    assert inventory.description == (
        "List each secret with its owner, scope, storage location and current age in days.\n"
        "- [ ] nested task stays in the description"
    )
    assert "nested task stays in the description" not in [i.title for i in full_plan().items]


def test_acceptance_criteria_inline_and_as_a_list() -> None:
    _, rotate, _, alert, *_ = full_plan().items
    assert rotate.acceptance == ["old tokens are rejected within one hour"]
    assert alert.acceptance == [
        "an alert fires for a secret older than 30 days",
        "the alert links to the runbook",
    ]


@pytest.mark.parametrize(
    ("raw", "title", "milestone", "labels", "users", "refs", "explicit"),
    [
        ("Fix it %M1", "Fix it", "M1", [], [], [], None),
        ('Fix it %"Beta launch" ~a ~"b c"', "Fix it", "Beta launch", ["a", "b c"], [], [], None),
        (
            "Mail ops@example.com about 50% done",
            "Mail ops@example.com about 50% done",
            None,
            [],
            [],
            [],
            None,
        ),
        ("Ask @bob and @carol.", "Ask and.", None, [], ["bob", "carol"], [], None),
        ("Covered by g/p#12", "Covered by", None, [], [], ["g/p#12"], None),
        (
            "Covered https://gitlab.example.com/g/p/-/issues/7 now",
            "Covered now",
            None,
            [],
            [],
            ["https://gitlab.example.com/g/p/-/issues/7"],
            None,
        ),
        ("Read [the doc](https://x.example/d) first", "Read the doc first", None, [], [], [], None),
        (
            "Do ~~not~~ strike ~priority::1",
            "Do ~~not~~ strike",
            None,
            ["priority::1"],
            [],
            [],
            None,
        ),
        ("Stable id {#my-id}", "Stable id", None, [], [], [], "my-id"),
        ("Spike: is X fast? (timebox 1w)", "Spike: is X fast?", None, [], [], [], None),
        (
            "Set `~/.ssh` for `@deploy` ~ops",
            "Set `~/.ssh` for `@deploy`",
            None,
            ["ops"],
            [],
            [],
            None,
        ),
        (
            "See https://x.example/page#12 now",
            "See https://x.example/page#12 now",
            None,
            [],
            [],
            [],
            None,
        ),
    ],
)
def test_split_title(raw, title, milestone, labels, users, refs, explicit) -> None:
    tokens = split_title(raw)
    assert tokens.title == title
    assert tokens.milestone == milestone
    assert tokens.labels == labels
    assert tokens.assignees == users
    assert tokens.refs == refs
    assert tokens.explicit_id == explicit


def test_timebox_forms() -> None:
    plan = parse_plan(
        "- [ ] Spike: does it scale?\n  timebox: 2 weeks\n"
        "- [ ] PoC: try the thing\n"
        "- [ ] **Spike**: bold prefix? (timebox 3d)\n"
        "- [ ] PoC: does it work?\n  Timeboxed to 2 days.\n"
    )
    first, second, third, fourth = plan.items
    assert (first.spike, first.timebox, first.has_question) == (True, "2 weeks", True)
    assert (second.spike, second.timebox, second.has_question) == (True, None, False)
    assert (third.spike, third.timebox) == (True, "3d")
    assert (fourth.spike, fourth.timebox, fourth.has_question) == (True, "2 days", True)


def test_question_marks_in_urls_are_not_questions() -> None:
    plan = parse_plan("- [ ] Spike: try it\n  See https://x.example/?q=1\n")
    assert plan.items[0].has_question is False


def test_ids_are_unique_and_explicit_ids_win() -> None:
    plan = parse_plan("- [ ] Same\n- [ ] Same\n- [ ] Other {#same}\n- [ ] Same\n")
    assert [i.id for i in plan.items] == ["same-1", "same-2", "same", "same-3"]


def test_duplicate_explicit_item_ids_are_reported() -> None:
    plan = parse_plan("- [ ] One {#x}\n- [ ] Two {#x}\n")
    assert [(d.code, d.line) for d in plan.diagnostics] == [("SP201", 2)]


def test_task_items_in_all_list_forms() -> None:
    plan = parse_plan("* [ ] star\n\n1. [x] numbered\n\n+ [ ] plus\n\n- [X] upper\n")
    assert [(i.title, i.done) for i in plan.items] == [
        ("star", False),
        ("numbered", True),
        ("plus", False),
        ("upper", True),
    ]


def test_task_item_under_a_plain_list_item_is_a_work_item() -> None:
    plan = parse_plan("- Phase one\n  - [ ] Do the first thing\n")
    assert [i.title for i in plan.items] == ["Do the first thing"]


def test_short_ref_without_tracker_is_sp103() -> None:
    plan = parse_plan("- [ ] Covered #12\n")
    assert plan.items[0].ref == "#12"
    assert [(d.code, d.line) for d in plan.diagnostics] == [("SP103", 1)]
    configured = parse_plan("- [ ] Covered #12\n", default_project="sec/work")
    assert configured.items[0].ref == "sec/work#12" and configured.diagnostics == []


def test_item_before_any_heading_has_no_section() -> None:
    plan = parse_plan("- [ ] Early\n\n## Later\n\n- [ ] Late\n")
    assert [i.section for i in plan.items] == [None, "later"]


def test_acceptance_helper_ignores_other_lines() -> None:
    assert acceptance_criteria("Some text\n- **Acceptance:** it works\nDone when: shipped") == [
        "it works",
        "shipped",
    ]


def test_items_in_a_blockquote_have_clean_descriptions() -> None:
    plan = parse_plan("> - [ ] Quoted item %M\n>   Some detail here.\n>   Acceptance: it works\n")
    item = plan.items[0]
    assert (item.title, item.milestone) == ("Quoted item", "M")
    assert item.description == "Some detail here.\nAcceptance: it works"
    assert item.acceptance == ["it works"]


# -- the fast forms equal the plain ones ---------------------------------------------------

_TOKEN_TEXT = st.lists(
    st.sampled_from([*' \t\n~%@*_.:/&+-"#{}abcXYZ09ıİé', "time-box", "Box"]), max_size=40
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TOKEN_TEXT)
def test_sigil_first_patterns_match_like_leading_lookbehinds(text: str) -> None:
    import re

    from secplan.markdown import items

    plain = {
        items._MILESTONE: r'(?<!\S)%(?:"([^"]+)"|([^\s"]+))',
        items._LABEL: r'(?<!\S)~(?:"([^"]+)"|([\w.:\-/&+]+))',
        items._USER: r"(?<![\w.@/])@([A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_])",
        items._EMPHASIS: r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])",
    }
    for fast, slow in plain.items():
        expected = [(m.span(), m.groups()) for m in re.finditer(slow, text)]
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == expected


@settings(max_examples=300, deadline=None)
@given(_TOKEN_TEXT)
def test_guards_never_hide_a_match(text: str) -> None:
    from secplan.markdown import items

    text = text.replace("Box", "tImEbOx 3d").replace("ı", "tıme-box 2w")
    assert items.find_timebox(text) == (
        items._SPACES.sub(" ", m.group(1)).strip() if (m := items._TIMEBOX.search(text)) else None
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list(" \t\x0bab-*")), max_size=8), max_size=6))
def test_dedent_equals_textwrap(lines: list[str]) -> None:
    import textwrap

    from secplan.markdown.items import dedent_description

    assert dedent_description(lines) == textwrap.dedent("\n".join(lines)).strip("\n")
