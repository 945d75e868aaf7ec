"""Fuzz target: the parser. Never an exception, every line number inside the file, and time
in proportion to the input."""

from __future__ import annotations

from hypothesis import given

from secplan.markdown import parse_plan
from tests.fuzz.budget import FUZZ, within_bound
from tests.fuzz.strategies import documents


@FUZZ
@given(documents())
def test_parse(text: str) -> None:
    plan = within_bound(len(text), lambda: parse_plan(text, flavour="kramdown"))
    last = text.count("\n") + text.count("\r") + 1
    for thing in (*plan.sections, *plan.items, *plan.requirements, *plan.markers, *plan.links):
        assert 1 <= thing.line <= last
    for item in plan.items:  # every item has an id, explicit ({#id}, lint checks repeats) or made
        assert item.id and "\n" not in item.title
