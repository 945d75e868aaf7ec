"""Plan Markdown → HTML: anchors as ids, kramdown markers, TOC, permalinks, sanitising."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secplan.handbook import load_handbook
from secplan.markdown import parse_plan
from secplan.markdown.render import neutralise_kramdown, render_markdown, split_front_matter
from tests.web.conftest import NESTED_PLAN, XSS_PLAN


def _render_file(root: Path, rel: str):
    handbook = load_handbook(root)
    plan = next(p for p in handbook.plans if p.rel_path == rel)
    text = plan.path.read_text(encoding="utf-8")
    lines = text.split("\n")
    body = "\n".join(lines[plan.body_line - 1 :])
    return plan, render_markdown(body, plan.sections, line_offset=plan.body_line - 1)


def test_every_heading_carries_the_parsers_anchor_as_id(handbook: Path) -> None:
    for rel in ("ci-runner-secrets-rotation.md", "admin-mfa/index.md", "network/segmentation.md"):
        plan, rendered = _render_file(handbook, rel)
        ids = re.findall(r"<h[1-6] id=\"([^\"]+)\"", rendered.html)
        assert ids == [s.anchor for s in plan.sections], rel


def test_kramdown_markers_never_leak_and_toc_is_real(handbook: Path) -> None:
    plan, rendered = _render_file(handbook, "network/segmentation.md")
    html = rendered.html
    body_outside_code = re.sub(r"<pre>.*?</pre>", "", html, flags=re.S)
    assert "{:" not in body_outside_code
    assert 'id="current"' in html  # explicit {#current}
    assert re.search(r'<a id="manual-spot"[^>]*></a>', html)  # [](){: name="manual-spot"}
    # The `- TOC {:toc}` list became a nav of links; no_toc headings stay out of it.
    nav = re.search(r'<nav class="toc".*?</nav>', html, flags=re.S)
    assert nav is not None
    assert 'href="#current"' in nav.group(0)
    assert "Target design" not in nav.group(0)
    assert [e.anchor for e in rendered.toc] == [s.anchor for s in plan.sections if not s.no_toc]
    # Inside fenced code the markers are text, not structure.
    assert "## not a heading\n{:toc}" in html


def test_heading_permalinks_point_at_their_own_anchor(handbook: Path) -> None:
    _, rendered = _render_file(handbook, "ci-runner-secrets-rotation.md")
    for anchor, link in re.findall(
        r'<h[1-6] id="([^"]+)">.*?<a class="permalink" href="#([^"]+)"', rendered.html
    ):
        assert anchor == link


def test_sanitising_strips_scripts_handlers_javascript_urls_iframes_styles() -> None:
    body, offset = split_front_matter(XSS_PLAN)
    assert offset > 0
    html = render_markdown(body).html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "<iframe",
        "<style",
        "style=",
    ):
        assert bad not in html, bad
    assert "styled text" in html  # the text survives, the attribute does not
    assert "<table" in render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n").html


def test_author_ids_and_heading_text_are_escaped() -> None:
    html = render_markdown('# Title {#x"onmouseover="alert(1)}\n\n## <b>bold</b> & co\n').html
    # The id stays inside its quoted attribute value: no attribute of its own.
    assert not re.search(r"\sonmouseover=", html)
    assert '"x&quot;onmouseover' in html or 'id="xonmouseover' in html
    assert "&amp; co" in html


def test_neutralise_keeps_line_count() -> None:
    text = NESTED_PLAN
    out, ials = neutralise_kramdown(text, "TOKEN")
    assert out.count("\n") == text.count("\n")
    assert "TOKEN" in out
    assert any(".no_toc" in v for v in ials.values())


def test_rendering_without_parser_sections_still_gives_ids() -> None:
    rendered = render_markdown("# One\n\n## Two\n{: #second}\n\n## Two\n")
    assert [e.anchor for e in rendered.toc] == ["one", "second", "two"]


def test_headings_without_parser_sections_follow_the_anchor_flavour() -> None:
    body = "## 2. Numbered & co\n\n## 2. Numbered & co\n\n## 1.15\n"
    for flavour, expected in (
        ("gitlab", ["2-numbered-co", "2-numbered-co-1", "anchor-115"]),
        ("kramdown", ["numbered--co", "numbered--co-1", "section"]),
    ):
        anchors = [e.anchor for e in render_markdown(body, flavour=flavour).toc]
        assert anchors == expected
        assert anchors == [s.anchor for s in parse_plan(body, flavour=flavour).sections]


def test_block_ial_after_a_heading_gives_its_id_and_no_toc() -> None:
    rendered = render_markdown("## First\n{: #one .no_toc}\n\n## Second\n{:.no_toc}\n\n## Third\n")
    assert re.findall(r'<h2 id="([^"]+)"', rendered.html) == ["one", "second", "third"]
    assert [e.anchor for e in rendered.toc] == ["third"]


@pytest.mark.parametrize(
    "text",
    [
        "---\ntitle: A\n---\n# H\n",
        "\ufeff---\r\ntitle: A\r\n---\r\n# H\r\n",
        "---\ntitle: A\n...\n# H\n",
        "+++\ntitle = 'A'\n+++\n# H\n",
        "---\ntitle: A\n# no closing fence\n",
        "--- not front matter\n# H\n",
        "# H\n",
    ],
)
def test_front_matter_split_is_the_parsers(text: str) -> None:
    body, offset = split_front_matter(text)
    plan = parse_plan(text)
    assert offset == plan.body_line - 1
    assert body.replace("\r\n", "\n").lstrip("\ufeff") == "\n".join(
        text.replace("\r\n", "\n").lstrip("\ufeff").split("\n")[offset:]
    )


def test_work_item_ids_and_manual_anchors_become_markup_not_text() -> None:
    html = render_markdown(
        '- [ ] Rotate keys %Pilot {#rotate}\n\nSee [](){: name="spot"} here.\n'
    ).html
    assert "{#rotate}" not in html and "{:" not in html
    assert re.search(r'<a id="spot"[^>]*></a>', html)
