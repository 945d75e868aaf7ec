"""Fuzz target: the web's plan renderer. Never an exception, output sanitised (no script, no
event-handler attribute, no javascript: URL, no frame), and time in proportion to the input."""

from __future__ import annotations

import html
import re

from hypothesis import given

from secplan.markdown import parse_plan
from secplan.markdown.render import render_markdown, split_front_matter
from tests.fuzz.budget import FUZZ, within_bound
from tests.fuzz.strategies import documents

_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_EVENT_ATTR = re.compile(r"""(?:^|[\s"'/])on[a-z]+\s*=""", re.IGNORECASE)
_BAD_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "base"}


def assert_sanitised(html: str) -> None:
    for name, attrs in _TAG.findall(html):
        assert name.lower() not in _BAD_TAGS, name
        assert not _EVENT_ATTR.search(attrs), attrs
        assert "javascript:" not in attrs.lower().replace(" ", ""), attrs


@FUZZ
@given(documents())
def test_render(text: str) -> None:
    plan = parse_plan(text, flavour="kramdown")
    body, offset = split_front_matter(text)
    rendered = within_bound(
        len(text),
        lambda: render_markdown(body, plan.sections, offset, resolve_link=lambda href: href),
    )
    assert_sanitised(rendered.html)
    ids = re.findall(r'<h[1-6] id="([^"]*)"', rendered.html)
    # Headings carry the parser's anchors (repeated explicit ones are SP201's to report).
    if len(ids) == len(plan.sections):
        assert ids == [html.escape(s.anchor, quote=True) for s in plan.sections]


def test_a_toc_right_under_a_heading_keeps_every_heading_id():
    # Found by the render target: the TOC's stand-in took a line of its own, so the headings
    # below it got their neighbours' ids (h, h-2, h-2 instead of h, h-1, h-2).
    text = "---\ntitle: T\n---\n# H\n* TOC\n{:toc}\n# H\n# H\n"
    plan = parse_plan(text, flavour="kramdown")
    body, offset = split_front_matter(text)
    rendered = render_markdown(body, plan.sections, offset)
    assert re.findall(r'<h1 id="([^"]*)"', rendered.html) == ["h", "h-1", "h-2"]
    assert '<nav class="toc"' in rendered.html
    under_text = render_markdown("Some text\n{:toc}\n# H\n").html
    assert "{:toc}" not in under_text and "secplantoc" not in under_text
