"""The body: sections and anchors, kramdown markers, code, markers, links, suppressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from secplan.markdown import parse_plan
from secplan.model import Plan
from tests.conftest import FIXTURES

PARSER_FIXTURES = FIXTURES / "parser"


def load(name: str, **kwargs: Any) -> Plan:
    return parse_plan((PARSER_FIXTURES / name).read_text(encoding="utf-8"), **kwargs)


def test_sections_have_file_lines_levels_and_ends() -> None:
    plan = load("full-plan.md")
    got = [(s.title, s.level, s.anchor, s.line, s.end_line) for s in plan.sections]
    assert got == [
        ("Secrets rotation for CI runners", 1, "secrets-rotation-for-ci-runners", 26, 64),
        ("Summary", 2, "summary", 28, 31),
        ("Requirements", 2, "requirements", 32, 38),
        ("Design", 2, "design", 39, 48),
        ("Work breakdown", 2, "work", 49, 64),
    ]
    assert plan.sections[-1].explicit is True
    assert plan.body_line == 25


def test_code_blocks_hold_no_headings_items_or_markers() -> None:
    plan = load("full-plan.md")
    assert "not a heading" not in [s.title for s in plan.sections]
    assert all("not a work item" not in i.title for i in plan.items)
    assert all("indented" not in i.title for i in plan.items)
    assert [m.line for m in plan.markers] == [61, 64]


def test_markers_carry_line_column_and_context() -> None:
    plan = parse_plan("Intro\n\nWe still need to decide (TBD) and FIXME.\n`TODO` in code\n")
    assert [(m.text, m.line, m.column) for m in plan.markers] == [("TBD", 3, 26), ("FIXME", 3, 35)]
    assert plan.markers[0].context == "We still need to decide (TBD) and FIXME."


def test_markers_in_headings_count_and_lowercase_words_do_not() -> None:
    plan = parse_plan("## TODO: name this\n\nA todo list is fine. XXXL is fine.\n")
    assert [(m.text, m.line) for m in plan.markers] == [("TODO", 1)]


def test_gitlab_anchors_deduplicate() -> None:
    plan = parse_plan("# Intro\n## Intro\n## Intro\n### Café & Crème!\n")
    assert [s.anchor for s in plan.sections] == ["intro", "intro-1", "intro-2", "café-crème"]


def test_kramdown_flavour_ial_toc_and_manual_anchors() -> None:
    plan = load("kramdown-plan.md", flavour="kramdown")
    assert [(s.title, s.anchor, s.no_toc, s.explicit) for s in plan.sections] == [
        ("Overview", "overview", True, False),
        ("Goals & Non-Goals", "goals", False, True),
        ("Goals & Non-Goals", "goals--non-goals", False, False),
        ("2. Numbered heading", "numbered-heading", False, False),
        ("Scope", "custom-scope", False, True),
    ]
    manual = [(a.id, a.line, a.section) for a in plan.anchors if a.kind == "manual"]
    assert manual == [
        ("hello-world", 20, "custom-scope"),
        ("legacy-anchor", 22, "custom-scope"),
        ("other-anchor", 23, "custom-scope"),
    ]
    assert {"hello-world", "custom-scope", "goals"} <= plan.anchor_ids()


def test_kramdown_markers_never_leak_into_text() -> None:
    plan = load("kramdown-plan.md", flavour="kramdown")
    assert [i.title for i in plan.items] == ["A real item"]  # {::comment} content is skipped
    assert plan.markers == []  # the TODO inside {::comment} is not a marker
    assert all("{:" not in s.title for s in plan.sections)
    assert plan.requirements == []  # "* TOC {:toc}" is a table of contents, nothing else


def test_kramdown_ids_come_from_the_heading_as_written() -> None:
    text = "## Use `kubectl` and [the docs](#x) ##\n\nSetext *title*\n-------\n"
    plan = parse_plan(text, flavour="kramdown")
    assert [s.anchor for s in plan.sections] == ["use-kubectl-and-the-docsx", "setext-title"]
    assert [s.title for s in plan.sections] == ["Use kubectl and the docs", "Setext title"]
    gitlab = parse_plan(text)
    assert [s.anchor for s in gitlab.sections] == ["use-kubectl-and-the-docs", "setext-title"]


def test_same_line_kramdown_ial_on_heading() -> None:
    plan = parse_plan("## Title {:.no_toc}\n## Other {: #given}\n## Third {#third}\n")
    assert [(s.title, s.anchor, s.no_toc) for s in plan.sections] == [
        ("Title", "title", True),
        ("Other", "given", False),
        ("Third", "third", False),
    ]


def test_ial_line_followed_by_text_still_belongs_to_the_heading() -> None:
    plan = parse_plan("## Scope\n{: #the-scope}\nText goes on.\n")
    assert plan.sections[0].anchor == "the-scope"


def test_ial_only_applies_on_the_line_right_after_the_heading() -> None:
    plan = parse_plan("## Title\n\n{: #late}\n")
    assert plan.sections[0].anchor == "title"


def test_duplicate_explicit_anchors_are_sp201() -> None:
    plan = parse_plan('## A {#same}\n## B {#same}\n## Summary\n\n<a name="summary"></a>\n')
    assert [(d.code, d.line) for d in plan.diagnostics] == [("SP201", 2), ("SP201", 5)]
    assert "line 1" in plan.diagnostics[0].message


def test_links_with_line_and_column() -> None:
    plan = parse_plan(
        "---\ntitle: A\n---\nSee [x](#a) and <https://e.example>.\n\n"
        "[ref][r]\n\n[r]: ./other.md#b\n"
    )
    assert [(link.url, link.line, link.column) for link in plan.links] == [
        ("#a", 4, 5),
        ("https://e.example", 4, 17),
        ("./other.md#b", 6, 1),
    ]


def test_columns_count_characters_not_bytes() -> None:
    plan = parse_plan("Ünïcödé [x](#a)\n")
    assert plan.links[0].column == 9


def test_suppression_covers_its_line_and_the_next_non_blank_one() -> None:
    plan = parse_plan("<!-- secplan: ignore SP306, SP304 SP302 -->\n\n\n- [ ] TODO\n")
    assert plan.suppressions == {1: {"SP306", "SP304", "SP302"}, 4: {"SP306", "SP304", "SP302"}}
    inline = parse_plan("- [ ] TODO <!-- secplan: ignore SP306 -->\n- [ ] next\n")
    assert inline.suppressions == {1: {"SP306"}, 2: {"SP306"}}


def test_suppression_inside_code_is_not_a_suppression() -> None:
    plan = parse_plan("```\n<!-- secplan: ignore SP306 -->\n```\nTODO\n")
    assert plan.suppressions == {}


def test_crlf_and_bom_keep_line_numbers() -> None:
    text = "\ufeff---\r\ntitle: A\r\n---\r\n\r\n## Work\r\n\r\n- [ ] Item TODO\r\n"
    plan = parse_plan(text)
    assert plan.title == "A"
    assert plan.sections[0].line == 5
    assert plan.items[0].line == 7 and plan.items[0].title == "Item TODO"
    assert plan.markers[0].line == 7


@pytest.mark.parametrize("name", ["full-plan.md", "kramdown-plan.md"])
def test_fixtures_parse_without_diagnostics(name: str) -> None:
    plan = load(name)
    assert plan.diagnostics == []


def test_path_and_ids_are_kept() -> None:
    plan = parse_plan("# A\n", plan_id="a/b", path=Path("/h/a/b.md"), rel_path="a/b.md")
    assert (plan.id, plan.rel_path, plan.path) == ("a/b", "a/b.md", Path("/h/a/b.md"))


def test_marker_context_starts_and_ends_on_word_boundaries() -> None:
    line = (
        "Data comes from the vulnerability report API of each project. TBD whether we read "
        "it nightly or on demand, and which of the two costs the API less over a full day of use."
    )
    plan = parse_plan(f"Intro\n\n{line}\n")
    (marker,) = plan.markers
    assert (marker.text, marker.column) == ("TBD", 63)
    assert marker.context == (
        "report API of each project. TBD whether we read it nightly or on demand, and "
        "which of the two costs the API less over a full day"
    )
    assert line.startswith(marker.context.split(" TBD")[0], line.index("report"))
    words = set(line.split())
    assert all(word in words for word in marker.context.split())


def test_marker_context_in_a_long_unbroken_run_starts_at_the_marker() -> None:
    plan = parse_plan("x" * 80 + "/TODO/" + "y" * 200 + "\n")
    (marker,) = plan.markers
    assert marker.context.startswith("TODO/yyy")
    assert len(marker.context.encode()) <= 100


def test_marker_context_with_multibyte_text_is_whole_characters() -> None:
    plan = parse_plan("é" * 30 + " ünd " + "ö" * 5 + " FIXME " + "ä" * 80 + " end\n")
    (marker,) = plan.markers
    assert marker.context.startswith("ünd ööööö FIXME")
    assert "\ufffd" not in marker.context
