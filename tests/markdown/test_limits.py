"""Pathological but legal documents parse in linear time and bounded memory."""

from __future__ import annotations

import time

from secplan.markdown import parse_plan


def timed(text: str):
    start = time.perf_counter()
    plan = parse_plan(text)
    return plan, time.perf_counter() - start


def test_many_headings_are_linear() -> None:
    plan, seconds = timed("# Top\n" + "## Part\n### Sub\n" * 10_000)
    assert len(plan.sections) == 20_001
    assert plan.sections[0].end_line == 20_001
    assert plan.sections[-1].anchor == "sub-9999"
    assert seconds < 10


def test_one_long_line_full_of_markers() -> None:
    plan, seconds = timed("TODO " * 100_000)
    assert len(plan.markers) == 100_000
    assert plan.markers[-1].column == 5 * 99_999 + 1
    assert len(plan.markers[-1].context) <= 160
    assert seconds < 10


def test_deep_nesting_does_not_recurse() -> None:
    plan, _ = timed(">" * 20_000 + " x\n" + "".join("  " * i + "- [ ] a\n" for i in range(500)))
    assert len(plan.items) == 1


def test_huge_front_matter_is_bounded() -> None:
    fm = "".join(f"k{i}: v\n" for i in range(30_000))
    plan, _ = timed(f"---\ntitle: Big\n{fm}---\n# Body\n")
    assert [d.code for d in plan.diagnostics] == ["SP106"]
    assert plan.sections[0].line == 30_004
