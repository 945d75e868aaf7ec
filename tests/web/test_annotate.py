"""Work items rendered as items in the plan text, and the text cut at its sections."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from secplan.markdown.render import render_markdown
from secplan.web.annotate import render_items, split_sections
from secplan.web.links import ServerLinks

HTML = (
    "<ul>\n"
    '<li><input disabled="disabled" type="checkbox" checked="">\nOrder <em>keys</em> %M1</li>\n'
    '<li><input disabled="disabled" type="checkbox">\nA task that is not an item</li>\n'
    '<li><input disabled="disabled" type="checkbox">\nEnrol admins &amp; staff\n'
    "<ul>\n<li>Acceptance: all enrolled</li>\n</ul>\n</li>\n"
    "</ul>\n"
)


def _item(title: str, line: int, ref: str | None, state: str | None, **kw: object) -> dict:
    base = {
        "id": re.sub(r"\W+", "-", title.lower()),
        "title": title,
        "line": line,
        "ref": ref,
        "state": state,
        "generated": False,
        "done": False,
    }
    return {**base, **kw}


def _href(ref: str) -> str:
    return "/issues/" + ref


def test_items_are_rendered_as_items_and_other_entries_stay() -> None:
    items = [
        _item(
            "Enrol admins & staff",
            9,
            "sec/p#4",
            "opened",
            milestone="Pilot",
            labels=["mfa"],
            assignees=["@amara"],
            description="Use the **hardware** keys.\n- Acceptance: all enrolled",
            acceptance=["all enrolled"],
        ),
        _item("Order keys", 3, "sec/p#3", "closed"),
        _item("Requirements: MUST", 1, "sec/p#5", "opened", generated=True),
    ]
    out = render_items(HTML, items, _href)
    entries = out.split("<li")[1:]
    first = entries[0]
    assert 'class="work-item" id="item-order-keys"' in first
    assert "checked" in first.split(">")[0] + first  # closed issue: ticked
    assert 'state-closed">closed</span> <a class="ref" href="/issues/sec/p#3">sec/p#3</a>' in first
    assert "A task that is not an item" in out and out.count('class="work-item"') == 2
    enrol = out.split('id="item-enrol-admins-staff"', 1)[1]
    head = enrol.split("</div>", 1)[0]
    assert 'type="checkbox" aria-label="not done"' in head  # open issue: not ticked
    assert '<span class="chip chip-milestone" title="milestone">%Pilot</span>' in enrol
    assert '<span class="chip chip-label" title="label">~mfa</span>' in enrol
    assert '<span class="chip chip-assignee" title="assignee">@amara</span>' in enrol
    assert "<strong>hardware</strong>" in enrol  # the description is Markdown
    desc = enrol.split('class="item-description">', 1)[1].split("</div>", 1)[0]
    assert "Acceptance" not in desc  # criteria are shown once, in their own block
    assert '<p class="acceptance-head">Acceptance</p><ul><li>all enrolled</li></ul>' in enrol
    assert "sec/p#5" not in out  # generated items have no entry in the text
    # The entry's nested list went with it: no stray closing tags.
    assert out.count("<li") == out.count("</li>")


def test_the_tick_counts_when_there_is_no_issue() -> None:
    ticked = render_items(HTML, [_item("Order keys", 3, None, None, done=True)], _href)
    assert 'type="checkbox" checked aria-label="done"' in ticked
    assert "item-issue" not in ticked
    # An open issue wins over a tick written in the Markdown.
    opened = render_items(HTML, [_item("Order keys", 3, "a/b#1", "opened", done=True)], _href)
    assert 'aria-label="not done"' in opened


def test_item_text_is_escaped_and_unknown_refs_get_no_state() -> None:
    items = [_item("Order keys", 3, "<b>x</b>#1", None, labels=["<i>"])]
    out = render_items(HTML, items, lambda ref: None)
    assert "<b>x</b>" not in out and '<code class="ref">&lt;b&gt;x&lt;/b&gt;#1</code>' in out
    assert "~&lt;i&gt;" in out and "state-" not in out


def test_the_renderer_output_is_what_the_pairing_expects() -> None:
    # If the renderer changes how it writes task lists, this fails instead of items vanishing.
    html = render_markdown("- [ ] Rotate tokens %Pilot\n- [x] Inventory\n").html
    out = render_items(html, [_item("Rotate tokens", 1, "a/b#1", "opened")], _href)
    assert out.count('class="work-item"') == 1


def test_split_sections_puts_badges_on_headings_with_open_threads() -> None:
    html = render_markdown("Intro\n\n# Top\n\nText\n\n## Design\n\nMore\n").html
    parts = split_sections(html, {"design": 2})
    anchors = [a for _, a in parts if a]
    assert anchors == ["top", "design"]
    assert parts[0] == ("<p>Intro</p>\n", None)  # text before any heading ends no section
    joined = "".join(c for c, _ in parts)
    assert '<a class="badge open-threads" href="#review-design">2 open threads</a></h2>' in joined
    assert "open-threads" not in joined.split("<h2", 1)[0]


def test_demo_plan_page_shows_items_with_their_issues(tmp_path: Path) -> None:
    from secplan.web.app import create_app
    from secplan.web.demo import prepare_demo
    from secplan.web.security import Auth

    demo_root = prepare_demo(tmp_path)
    with TestClient(
        create_app(demo_root, auth=Auth(), scan_interval=0.0), base_url="http://127.0.0.1"
    ) as c:
        page = c.get("/plans/ci-runner-secrets-rotation").text
        data = c.get("/plans/ci-runner-secrets-rotation.json").json()
    body = page.split('<div class="plan-body">', 1)[1].split("</article>", 1)[0]
    written = [i for i in data["items"] if not i["generated"]]
    assert body.count('class="item-issue"') == len(written) == 7
    closed = [i for i in written if i["state"] == "closed"]
    assert closed
    for item in written:
        entry = body.split(f'id="item-{item["id"]}"', 1)[1].split("</li>", 1)[0]
        assert ("checked" in entry.split("</div>", 1)[0]) == (item["state"] == "closed")
        assert f'href="{ServerLinks(lambda _: None).issue(item["ref"])}"' in entry
    # The run-on line of the issue report is now a title, chips and a description.
    assert "%Discovery ~inventory @amara.okafor" not in body
    assert '<span class="chip chip-assignee" title="assignee">@amara.okafor</span>' in body
    assert "item-issue" not in data["html"]  # the JSON keeps the plan's own rendering
