"""Issue badges beside work items in the rendered plan text."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from secplan.markdown.render import render_markdown
from secplan.web.annotate import annotate_items

HTML = (
    "<ul>\n"
    '<li><input disabled="disabled" type="checkbox" checked="">\nOrder <em>keys</em> %M1</li>\n'
    '<li><input disabled="disabled" type="checkbox">\nA task that is not an item</li>\n'
    '<li><input disabled="disabled" type="checkbox">\nEnrol admins &amp; staff</li>\n'
    "</ul>\n"
)


def _item(title: str, line: int, ref: str | None, state: str | None, **kw: object) -> dict:
    return {"title": title, "line": line, "ref": ref, "state": state, "generated": False, **kw}


def test_badges_go_to_the_entries_whose_text_starts_with_the_item_title() -> None:
    items = [
        _item("Enrol admins & staff", 9, "sec/p#4", "opened"),
        _item("Order keys", 3, "sec/p#3", "closed"),
        _item("Requirements: MUST", 1, "sec/p#5", "opened", generated=True),
    ]
    out = annotate_items(HTML, items)
    assert out.count('class="item-issue"') == 2
    first, second, third = out.split("<li>")[1:]
    assert 'state-closed">closed</span> <code class="ref">sec/p#3</code>' in first
    assert "item-issue" not in second  # not an item: no badge, and the pairing goes on
    assert 'state-opened">opened</span> <code class="ref">sec/p#4</code>' in third
    assert "sec/p#5" not in out  # generated items have no entry in the text


def test_no_issue_no_badge_and_unknown_refs_get_no_state() -> None:
    items = [_item("Order keys", 3, None, None), _item("Enrol admins & staff", 9, "x/y#1", None)]
    out = annotate_items(HTML, items)
    assert out.count('class="item-issue"') == 1
    assert '<span class="item-issue"><code class="ref">x/y#1</code></span>' in out
    assert annotate_items(HTML, [_item("Order keys", 3, None, None)]) == HTML


def test_badge_text_is_escaped() -> None:
    items = [_item("Order keys", 3, "<b>x</b>#1", "<i>")]
    out = annotate_items(HTML, items)
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;#1" in out and "state-&lt;i&gt;" in out


def test_the_renderer_output_is_what_the_pairing_expects() -> None:
    # If the renderer changes how it writes task lists, this fails instead of badges vanishing.
    html = render_markdown("- [ ] Rotate tokens %Pilot\n- [x] Inventory\n").html
    assert (
        annotate_items(html, [_item("Rotate tokens", 1, "a/b#1", "opened")]).count("item-issue")
        == 1
    )


def test_demo_plan_page_shows_item_states_in_the_text(tmp_path: Path) -> None:
    from secplan.web.app import create_app
    from secplan.web.demo import prepare_demo
    from secplan.web.security import Auth

    demo_root = prepare_demo(tmp_path)
    with TestClient(
        create_app(demo_root, auth=Auth(), scan_interval=0.0), base_url="http://127.0.0.1"
    ) as c:
        page = c.get("/plans/ci-runner-secrets-rotation").text
        data = c.get("/plans/ci-runner-secrets-rotation.json").json()
    body = page.split('<div class="plan-body">', 1)[1].split('<section class="review"', 1)[0]
    written = [i for i in data["items"] if not i["generated"]]
    assert body.count('class="item-issue"') == len(written) == 7
    assert 'state-closed">closed</span> <code class="ref">security/planning#5</code>' in body
    assert "item-issue" not in data["html"]  # the JSON keeps the plan's own rendering
