"""What real handbooks write: GitLab's `{+ +}` headings, H1 titles, GitHub anchors, YAML errors."""

from __future__ import annotations

import pytest

from secplan.markdown import parse_plan
from secplan.markdown.inline_diff import strip_inline_diff
from tests.conftest import CORPORA


def test_inline_diff_heading_keeps_its_words_and_gitlab_anchor() -> None:
    plan = parse_plan("---\nstatus: proposed\n---\n\n# {+ Title of Blueprint +}\n\n## Summary\n")
    assert [(s.title, s.anchor) for s in plan.sections] == [
        ("Title of Blueprint", "title-of-blueprint"),
        ("Summary", "summary"),
    ]
    assert plan.title == "Title of Blueprint"


def test_inline_diff_inside_a_heading_and_removed_words() -> None:
    plan = parse_plan("## Keep {- old -} and {+ new +} words\n")
    assert plan.sections[0].title == "Keep old and new words"
    assert strip_inline_diff("a {+b+} c") == "a b c"


def test_heading_attributes_still_work_without_diff_markers() -> None:
    plan = parse_plan("## Rollout {#go-live}\n")
    assert [(s.title, s.anchor) for s in plan.sections] == [("Rollout", "go-live")]


def test_first_top_level_heading_titles_a_plan_without_title() -> None:
    plan = parse_plan("---\nstatus: draft\n---\n\n## Before\n\n# The real title\n\n# Second\n")
    assert plan.title == "The real title"
    titled = parse_plan("---\ntitle: Given\n---\n# Heading\n")
    assert titled.title == "Given"
    assert parse_plan("## Only a subsection\n").title is None


@pytest.mark.parametrize(
    ("flavour", "anchor"), [("gitlab", "a-b"), ("github", "a----b"), ("kramdown", "a----b")]
)
def test_github_flavour_keeps_double_hyphens(flavour: str, anchor: str) -> None:
    plan = parse_plan("## A -- B\n", flavour=flavour)
    assert plan.sections[0].anchor == anchor


def test_github_flavour_gives_digit_anchors_no_prefix() -> None:
    assert parse_plan("## 2026\n", flavour="github").sections[0].anchor == "2026"
    assert parse_plan("## 2026\n", flavour="gitlab").sections[0].anchor == "anchor-2026"


def test_yaml_error_points_at_the_broken_construct_with_pyyaml_context() -> None:
    plan = parse_plan('---\ntitle: "Broken\nstatus: ready\n---\n# Body\n')
    [problem] = plan.diagnostics
    assert (problem.code, problem.line, problem.column) == ("SP106", 2, 8)
    assert "while scanning a quoted scalar (line 2, column 8)" in problem.message
    assert "found unexpected end of stream" in problem.message


def test_yaml_problem_without_context_keeps_the_problem_line() -> None:
    plan = parse_plan("---\ntitle: A\nstatus: [x\nowners: b\n---\n")
    [problem] = plan.diagnostics
    assert problem.line == 3 and "did not find expected" in problem.message


@pytest.mark.corpora
def test_gitlab_template_heading_anchor_matches_gitlab() -> None:
    template = CORPORA / "gitlab-blueprints" / "_template.md"
    if not template.is_file():
        pytest.skip("../shared/corpora is not present")
    plan = parse_plan(template.read_text(encoding="utf-8"))
    assert plan.sections[0].anchor == "title-of-blueprint"
    assert plan.title == "Title of Blueprint"
