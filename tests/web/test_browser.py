"""The UI in Debian's chromium (Playwright) against a real ``secplan serve`` process."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import LiveServer, shot

pytestmark = pytest.mark.browser

PLAN = "ci-runner-secrets-rotation"


def test_catalog_filter_open_plan_and_follow_toc(live_server: LiveServer, page) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("table.catalog tbody tr").count() >= 5
    shot(page, "catalog")

    page.select_option("select[name=status]", "ready")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"status=ready"))
    rows = page.locator("table.catalog tbody tr")
    assert rows.count() == 1
    assert "Secrets rotation for CI runners" in rows.first.inner_text()
    shot(page, "catalog-filtered")

    page.fill("input[name=q]", "nothing matches this")
    page.click("form.filters button[type=submit]")
    assert "No plan matches" in page.locator("table.catalog").inner_text()

    page.goto(live_server.url + "/?status=ready")
    page.click("a.plan-link")
    page.wait_for_url(f"**/plans/{PLAN}")
    assert "Secrets rotation for CI runners" in page.title()

    link = page.locator("aside .toc-panel a[href='#design']")
    link.click()
    page.wait_for_url(f"**/plans/{PLAN}#design")
    heading = page.locator("h2#design")
    assert heading.is_visible()
    # The anchor target is scrolled to: its heading is near the top of the viewport.
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < 300
    assert page.evaluate("document.querySelector(':target').id") == "design"
    shot(page, "plan-design-anchor")

    # The heading's own permalink goes to the same anchor (and app.js copies it when allowed).
    page.hover("h2#goals")
    page.click("h2#goals a.permalink")
    page.wait_for_url(f"**/plans/{PLAN}#goals")
    # Our pages use no inline script or style, so the strict CSP reports nothing.
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_start_a_thread_by_keyboard_and_land_on_it(live_server: LiveServer, page) -> None:
    """Start a thread on a section with the keyboard only; the page opens at the new thread,
    below its section, focused, with a confirmation a screen reader announces."""
    page.goto(f"{live_server.url}/plans/{PLAN}")
    review = page.locator("section#review-design")
    assert review.is_visible()  # below its own section, not at the bottom of the page
    design_box = page.locator("h2#design").bounding_box()
    next_box = page.locator("h2#design ~ h2").first.bounding_box()
    review_box = review.bounding_box()
    assert design_box and next_box and review_box
    assert design_box["y"] < review_box["y"] < next_box["y"]

    summary = review.locator("details.start-thread > summary")
    summary.focus()
    page.keyboard.press("Enter")  # a real <summary>: opens with the keyboard
    form = review.locator("form.new-thread")
    assert form.is_visible()
    form.locator("input[name=author]").focus()
    page.keyboard.type("reviewer")
    page.keyboard.press("Tab")
    page.keyboard.type("Does the pilot cover Windows runners?")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Start thread"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/plans/{PLAN}\?posted=thread&thread=\d+#thread-\d+$"))

    thread_id = page.url.rsplit("#", 1)[1]
    thread = page.locator(f"#{thread_id}")
    assert "Does the pilot cover Windows runners?" in thread.inner_text()
    assert "reviewer" in thread.inner_text()
    assert page.evaluate("document.activeElement.id") == thread_id  # focus is on it
    assert page.evaluate("document.querySelector(':target').id") == thread_id
    box = thread.bounding_box()
    assert box is not None and -5 <= box["y"] < 900  # scrolled into view
    # The confirmation is in the thread, so it is on screen where the browser lands.
    flash = thread.locator("p.flash[role=status]")
    assert flash.is_visible() and flash.inner_text() == "Thread started."
    flash_box = flash.bounding_box()
    assert flash_box is not None and 0 <= flash_box["y"] < 900
    assert flash.get_attribute("aria-live") == "polite"
    # The thread is inside the section's review block, and its heading shows the count.
    assert page.locator(f"section#review-design #{thread_id}").count() == 1
    assert "1 open thread" in page.locator("h2#design").inner_text()
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
    shot(page, "review-thread-landed")


def test_add_and_resolve_a_review_comment(live_server: LiveServer, page) -> None:
    page.goto(f"{live_server.url}/plans/{PLAN}")
    section = page.locator("section#review-design")
    section.locator("details.start-thread > summary").click()
    section.locator("form.new-thread input[name=author]").fill("reviewer")
    section.locator("form.new-thread textarea[name=body]").fill(
        "Does the pilot cover Windows runners?"
    )
    section.locator("form.new-thread button[type=submit]").click()
    page.wait_for_url(re.compile(r"#thread-\d+$"))

    thread = page.locator("section#review-design .thread").first
    assert "Does the pilot cover Windows runners?" in thread.inner_text()
    assert "reviewer" in thread.inner_text()
    assert "1 open" in page.locator("section#review-design .review-head").inner_text()

    # The Reply button sits beside "Resolve thread", outside its form (form= attribute).
    thread.locator("form.reply input[name=author]").fill("runner.owner")
    thread.locator("form.reply textarea[name=body]").fill("Yes, Windows runners are in the pilot.")
    thread.locator(".thread-actions button", has_text="Reply").click()
    page.wait_for_url(re.compile(r"posted=reply&thread=\d+#thread-\d+$"))
    assert page.locator("p.flash").inner_text() == "Reply added."
    thread = page.locator("section#review-design .thread").first
    assert thread.locator(".comment").count() == 2
    assert "Windows runners are in the pilot" in thread.inner_text()
    assert "runner.owner" in thread.locator(".comment").nth(1).inner_text()
    shot(page, "review-thread-open")

    thread.locator("form.resolve button").click()
    page.wait_for_url(re.compile(r"posted=resolved&thread=\d+#thread-\d+$"))
    thread = page.locator("section#review-design .thread").first
    assert "resolved" in thread.inner_text()
    assert "open" not in page.locator("section#review-design .review-head").inner_text()
    assert "open thread" not in page.locator("h2#design").inner_text()
    shot(page, "review-thread-resolved")


def test_xss_payloads_stay_inert(live_server: LiveServer, page) -> None:
    for url in ("/plans/xss-probe", "/", "/plans/xss-probe.json"):
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        flags = page.evaluate("Object.keys(window).filter(k => k.startsWith('__xss'))")
        assert flags == [], (url, flags)
    page.goto(live_server.url + "/plans/xss-probe")
    page.click("text=click me")  # the onclick handler was stripped
    page.wait_for_timeout(200)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("Object.keys(window).filter(k => k.startsWith('__xss'))") == []
    assert "<script>" in page.title()  # shown as text
    shot(page, "xss-probe")


def test_pages_fit_a_phone_screen(live_server: LiveServer, page) -> None:
    """At 390 px nothing scrolls sideways: catalog rows become labelled cards, columns stack."""
    page.set_viewport_size({"width": 390, "height": 800})
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    for url in ("/", "/board", f"/plans/{PLAN}", "/plans/network/segmentation"):
        page.goto(live_server.url + url)
        assert page.evaluate(overflow) <= 0, url
    page.goto(live_server.url + "/")
    assert not page.locator("table.catalog thead").is_visible()
    status_cell = page.locator("table.catalog tbody tr").first.locator("td").nth(1)
    label = status_cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Status"'
    shot(page, "catalog-narrow")
    page.goto(live_server.url + "/board")
    open_col, closed_col = (
        page.locator(f".column-{s}").bounding_box() for s in ("opened", "closed")
    )
    assert open_col and closed_col and closed_col["y"] > open_col["y"]  # stacked, not side by side
