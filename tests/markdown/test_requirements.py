"""Requirements: RFC 2119 keywords in list items, their levels, ids and generated items."""

from __future__ import annotations

from secplan.markdown import parse_plan
from secplan.markdown.requirements import strongest_keyword
from tests.conftest import FIXTURES


def test_requirements_from_the_fixture() -> None:
    plan = parse_plan((FIXTURES / "parser" / "full-plan.md").read_text(encoding="utf-8"))
    assert [(r.id, r.level, r.keyword, r.line) for r in plan.requirements] == [
        ("requirements-r1", "must", "MUST NOT", 34),
        ("requirements-r2", "should", "SHOULD", 35),
        ("requirements-r3", "may", "MAY", 36),
    ]
    assert plan.requirements[0].text == "Rotation MUST NOT interrupt running jobs."


def test_strongest_keyword_wins() -> None:
    assert strongest_keyword("It MAY and SHOULD and MUST") == ("must", "MUST")
    assert strongest_keyword("It is NOT RECOMMENDED") == ("should", "NOT RECOMMENDED")
    assert strongest_keyword("OPTIONAL feature") == ("may", "OPTIONAL")
    assert strongest_keyword("you must, lower case") is None


def test_only_list_items_outside_task_items_and_code() -> None:
    plan = parse_plan(
        "## Rules\n\n"
        "A paragraph that MUST not count.\n\n"
        "- [ ] A task that MUST not count\n"
        "  - nested detail SHOULD not count either\n"
        "- `MUST` in code does not count\n"
        "- Only the first paragraph counts\n\n"
        "  A later paragraph MUST not count.\n"
        "- Real one MUST count\n"
    )
    assert [(r.id, r.text) for r in plan.requirements] == [("rules-r1", "Real one MUST count")]


def test_checklist_mode_generates_one_item_per_section() -> None:
    plan = parse_plan(
        "---\nrequirements: checklist\n---\n"
        "## Storage\n\n- Data MUST be encrypted\n- Keys SHOULD rotate\n\n"
        "## Access\n\n- Admins MUST use MFA\n"
    )
    generated = [i for i in plan.items if i.generated]
    assert [(i.id, i.title, i.section, i.line) for i in generated] == [
        ("storage-requirements", "Requirements: Storage", "storage", 6),
        ("access-requirements", "Requirements: Access", "access", 11),
    ]
    assert generated[0].description == "- [ ] Data MUST be encrypted\n- [ ] Keys SHOULD rotate"
    assert all(i.milestone is None for i in generated)


def test_issues_mode_generates_one_item_per_requirement() -> None:
    plan = parse_plan(
        "---\nrequirements: issues\n---\n"
        "## Storage\n\n- Data MUST be encrypted\n- Keys SHOULD rotate\n"
    )
    assert [(i.id, i.title, i.generated) for i in plan.items] == [
        ("storage-r1", "Data MUST be encrypted", True),
        ("storage-r2", "Keys SHOULD rotate", True),
    ]


def test_none_mode_generates_nothing() -> None:
    plan = parse_plan("## S\n\n- Data MUST be encrypted\n")
    assert plan.items == [] and len(plan.requirements) == 1


def test_generated_ids_do_not_clash_with_written_items() -> None:
    plan = parse_plan(
        "---\nrequirements: issues\n---\n## S\n\n- Data MUST be encrypted\n- [ ] x {#s-r1}\n"
    )
    assert sorted(i.id for i in plan.items) == ["s-r1", "s-r1-1"]
