"""The plan page: diagnostics as Markdown linked to the source view, breakdown proposals."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

from fastapi.testclient import TestClient

from secplan.breakdown.propose import propose
from secplan.breakdown.write import render_section
from secplan.handbook import load_handbook

PROSE = """---
title: Prose plan
status: draft
owners: [pat]
---

TODO: decide who owns this plan.

# Prose plan

## Summary

We rotate keys with `vault`.

## Next steps

- Add a rotation job for the <script>window.__x=1</script> runners
- Document the rollback procedure
"""


def _prose(handbook: Path) -> Path:
    path = handbook / "prose.md"
    path.write_text(PROSE, encoding="utf-8")
    return path


def test_diagnostics_are_markdown_and_link_to_their_source_line(
    client: TestClient, handbook: Path
) -> None:
    _prose(handbook)
    page = client.get("/plans/prose").text
    panel = page.split('<section class="diagnostics">', 1)[1].split("</section>", 1)[0]
    assert "`" not in panel  # inline code is rendered, not shown as backticks
    assert "<code>TODO</code>" in panel
    assert '<a class="line-link" href="/plans/prose/source#L7">line 7</a>' in panel
    # A TODO before any heading belongs to no section: no link to "#None".
    assert "#None" not in page and 'href="#"' not in page
    source = client.get("/plans/prose/source")
    assert source.status_code == 200
    line7 = re.search(r'<li id="L7">.*?</li>', source.text)
    assert line7 and "TODO: decide who owns this plan." in line7.group(0)
    assert source.text.count('<li id="L') == len(PROSE.splitlines())
    assert "&lt;script&gt;" in source.text and "<script>window" not in source.text
    assert client.get("/plans/nope/source").status_code == 404


def test_the_source_view_numbers_lines_as_the_parser_does(
    client: TestClient, handbook: Path
) -> None:
    # U+2028 and a form feed (pasted from a word processor) are no line breaks to the parser.
    (handbook / "pasted.md").write_text(
        PROSE.replace("TODO: decide", "Pasted\u2028text\x0cend.\n\nTODO: decide"),
        encoding="utf-8",
    )
    page = client.get("/plans/pasted").text
    panel = page.split('<section class="diagnostics">', 1)[1].split("</section>", 1)[0]
    todo = next(li for li in panel.split("<li") if "<code>TODO</code>" in li)
    found = re.search(r'href="/plans/pasted/source#L(\d+)"', todo)
    assert found and found.group(1) == "9"  # the parser's line of the TODO
    line = int(found.group(1))
    source = client.get("/plans/pasted/source").text
    listed = re.search(rf'<li id="L{line}">.*?</li>', source, re.S)
    assert listed and "TODO: decide who owns this plan." in listed.group(0)
    assert "Pasted\u2028text" in source  # one line, as the parser counts it


def test_a_plan_without_items_shows_the_breakdown_to_copy(
    client: TestClient, handbook: Path
) -> None:
    path = _prose(handbook)
    page = client.get("/plans/prose").text
    block = page.split('<section class="breakdown" id="secplan-breakdown"', 1)[1]
    block = block.split("</section>", 1)[0]
    pre = re.search(r'<pre id="breakdown-md"><code>(.*?)</code></pre>', block, re.DOTALL)
    assert pre
    plan = next(p for p in load_handbook(handbook).plans if p.id == "prose")
    expected = render_section(plan, propose(plan, path.read_text(encoding="utf-8")))
    assert htmllib.unescape(pre.group(1)) == expected  # what `breakdown --write` would add
    assert expected.startswith("## Work breakdown") and "- [ ] Document the rollback" in expected
    assert '<button type="button" class="secondary copy" data-copy="breakdown-md">' in block
    assert "<script>window" not in page  # proposal titles are escaped
    assert 'href="#next-steps"' in block  # each proposal points at its section
    # A plan with items gets no proposals.
    assert "secplan-breakdown" not in client.get("/plans/ci-runner-secrets-rotation").text


def test_work_item_panel_links_refs_and_items(client: TestClient) -> None:
    page = client.get("/plans/ci-runner-secrets-rotation").text
    panel = page.split('<section class="work-items">', 1)[1].split("</section>", 1)[0]
    assert 'href="#item-inventory"' in panel  # to the item itself, rendered in the text
    assert 'id="item-inventory"' in page
