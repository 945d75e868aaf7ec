"""Hostile plan text costs work in proportion to its size: no rule or renderer is quadratic.

Where the work can be counted (anchor comparisons, blank-line look-ahead) it is counted. Elsewhere
the test compares the CPU time of an input with that of one four times as large: linear code
takes about four times as long, quadratic code sixteen; the bound of eight leaves room for noise,
and each size takes well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from secplan.lint import rules_anchors
from secplan.markdown import parse_plan
from secplan.markdown import parser as parser_module
from secplan.markdown.items import split_title
from secplan.markdown.render import MAX_NESTING, render_markdown
from tests.lint.helpers import check

SIZES = (4_000, 16_000)


def _cpu(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return max(best, 1e-4)


def growth(make: Callable[[int], str], run: Callable[[str], object], scale: int = 1) -> float:
    """How much longer ``run`` takes on an input four times as large."""
    small, large = (make(n * scale) for n in SIZES)
    return _cpu(lambda: run(large)) / _cpu(lambda: run(small))


HOSTILE_TITLES = {
    "strong": "**a ",
    "underscores": "__a ",
    "brackets": "[[[…](",
    "open-brackets": "[",
    "links": "[a](b ",
    "code": "``a `",
    "milestones": '%"a ',
    "labels": '~"a ',
}


@pytest.mark.parametrize("unit", HOSTILE_TITLES.values(), ids=HOSTILE_TITLES.keys())
def test_task_titles(unit: str):
    assert growth(lambda n: unit * (n // len(unit)), split_title, scale=4) < 8


def test_a_64_kb_hostile_title_parses_quickly():
    start = time.process_time()
    parse_plan("- [ ] " + "**a " * 16_000 + "\n- [ ] " + "[[[…](" * 11_000 + "\n")
    assert time.process_time() - start < 5  # was 14 s and 19 s


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "{::comment}\n" * (n // 12),
        lambda n: "{::comment}x{:/comment}\nTODO\n" * (n // 30),
        lambda n: "# T\n\n" + "<!-- secplan: ignore SP202 --> " * (n // 32) + "\n" * n + "x\n",
    ],
    ids=["unclosed-comments", "closed-comments", "suppressions"],
)
def test_parse(make: Callable[[int], str]):
    assert growth(make, parse_plan, scale=4) < 8


@pytest.mark.parametrize(
    "make",
    [
        lambda n: ">" * n + " x\n",
        lambda n: "> - " * (n // 4) + "x\n",
        lambda n: "# h\n" * (n // 4),
    ],
    ids=["nested-quotes", "nested-lists", "headings"],
)
def test_render(make: Callable[[int], str]):
    assert growth(make, render_markdown) < 8


def test_deep_nesting_is_capped_not_lost():
    html = render_markdown(">" * 5_000 + " deep text\n").html
    assert "deep text" in html
    assert html.count("<blockquote>") == MAX_NESTING


def test_suppressions_look_ahead_once_per_line(monkeypatch: pytest.MonkeyPatch):
    calls = 0
    real = parser_module._BodyWalker._next_non_blank

    def counting(self: object, line: int) -> int | None:
        nonlocal calls
        calls += 1
        return real(self, line)  # type: ignore[arg-type]

    monkeypatch.setattr(parser_module._BodyWalker, "_next_non_blank", counting)
    scanned = 0
    real_text = parser_module.LineTable.line_text

    def line_text(self: object, line: int) -> str:
        nonlocal scanned
        scanned += 1
        return real_text(self, line)  # type: ignore[arg-type]

    monkeypatch.setattr(parser_module.LineTable, "line_text", line_text)
    plan = parse_plan("# T\n\n" + "<!-- secplan: ignore SP202 --> " * 2_000 + "\n" * 5_000 + "x\n")
    assert plan.suppressions[5_003] == {"SP202"}
    assert scanned <= 5_000 + 50  # the blank lines are read once, not once per comment
    assert calls >= 1


def test_broken_anchor_hints_index_the_anchors_once(monkeypatch: pytest.MonkeyPatch):
    from secplan.model import Anchor, LinkUse
    from tests.lint.helpers import plan

    loosened = 0
    real = rules_anchors._loose

    def counting(anchor: str) -> str:
        nonlocal loosened
        loosened += 1
        return real(anchor)

    monkeypatch.setattr(rules_anchors, "_loose", counting)
    p = plan(
        anchors=[Anchor(f"part-{i}", i + 20) for i in range(2_000)],
        links=[LinkUse(f"#Part--{i}", i + 3_000, 1) for i in range(2_000)],
    )
    findings = [f for f in check(p, "SP202")]
    assert len(findings) == 2_000
    assert "did you mean `#part-7`?" in findings[7].message
    assert loosened <= 2 * 2_000 + 10  # each anchor and each link once, not anchors x links


def test_a_long_hand_written_catalog_table():
    from secplan.handbook.adopt import find_hand_table

    def page(n: int) -> str:
        rows = "".join(f"| [Plan {i}](p{i}.md) | g&{i} |\n" for i in range(n // 24))
        return "# Plans\n\n| Plan | Epic |\n| --- | --- |\n" + rows

    assert find_hand_table(page(4_000)) is not None
    assert growth(page, find_hand_table, scale=4) < 8  # the row lines were counted from the top
