"""The link check on hand-made pages: lines, anchors, external links, leaving the site."""

from __future__ import annotations

from secplan.site.linkcheck import check, page_links, source_links


def test_links_made_by_templates_carry_the_page_line() -> None:
    html = '<p>\n<a href="a.html">a</a>\n\n<img src="x.png">\n<a href="#top">t</a>'
    record = page_links("plans/p.html", html)
    assert [(x.url, x.source, x.line) for x in record.links] == [
        ("a.html", "plans/p.html", 2),
        ("x.png", "plans/p.html", 4),
        ("#top", "plans/p.html", 5),
    ]


def test_links_from_plan_text_carry_the_plan_line() -> None:
    text = "# T\n\nSee [x](other.md#s) and ![i](img/a.png).\n\n[ref]: https://e.example/\n"
    lines = dict(source_links(text))
    assert lines == {"other.md#s": 3, "img/a.png": 3, "https://e.example/": 5}
    record = page_links("plans/p.html", '<a href="other.html#s">', "p.md", {"other.html#s": 3})
    assert (record.links[0].source, record.links[0].line) == ("p.md", 3)


def test_check_finds_missing_files_anchors_and_lists_external_links() -> None:
    pages = {
        "index.html": page_links("index.html", '<a href="plans/a.html#s"><a href="https://x.io">'),
        "plans/a.html": page_links(
            "plans/a.html", '<h2 id="s"></h2><a href="../../up.html"><a href="b.html#nope">'
        ),
        "plans/b.html": page_links("plans/b.html", '<a href="../">home</a>'),
    }
    broken, external = check(pages, pages)
    assert [(b.url, b.reason) for b in broken] == [
        ("../../up.html", "it leaves the site"),
        ("b.html#nope", "no anchor #nope in plans/b.html"),
    ]
    assert [x.url for x in external] == ["https://x.io"]


def test_base_url_links_are_internal() -> None:
    base = "https://g.gitlab.io/p/"
    pages = {
        "index.html": page_links("index.html", f'<a href="{base}plans/a.html">'),
        "plans/a.html": page_links("plans/a.html", f'<a href="{base}missing.html">'),
    }
    broken, external = check(pages, pages, base)
    assert [b.url for b in broken] == [f"{base}missing.html"] and external == []
