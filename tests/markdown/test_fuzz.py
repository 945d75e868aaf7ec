"""The parser never raises, whatever the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secplan.markdown import parse_plan

# Fragments of the syntax the parser cares about, so random documents reach its corners.
FRAGMENTS = [
    "---\n",
    "...\n",
    "title: x\n",
    "milestones:\n  - title: M\n    due: 2026-02-30\n",
    "# H\n",
    "## H {#id}\n",
    "{: #ial .no_toc}\n",
    "* TOC\n{:toc}\n",
    "- [ ] item %M ~l @u #1 {#i}\n",
    "  Acceptance: ok\n",
    "- req MUST\n",
    "  - nested SHOULD\n",
    "```\n",
    "    code\n",
    "<!-- secplan: ignore SP306 -->\n",
    "<a name='x'></a>\n",
    '[](){: name="y"}\n',
    "{::comment}\n",
    "{:/comment}\n",
    "TODO\n",
    "| a | b\n|---|\n| c\n",
    "> quote\n",
    "\r\n",
    "\ufeff",
    "é😀\n",
    "[x](#y)\n",
    "&a [*a, *a]\n",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=30))
def test_parse_plan_never_raises(parts: list[str]) -> None:
    text = "".join(parts)
    plan = parse_plan(text, flavour="kramdown" if len(text) % 2 else "gitlab")
    last_line = text.count("\n") + text.count("\r") + 1
    for thing in (*plan.sections, *plan.items, *plan.requirements, *plan.markers, *plan.links):
        assert 1 <= thing.line <= last_line


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    parse_plan(text)
