"""``secplan build``'s site in Debian's chromium, served by a plain static server (``http.server``).

No server-side headers here: the pages must work under the CSP they carry in a meta element.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secplan.site import search
from secplan.site.builder import build
from tests.site.conftest import copy_fixture
from tests.web.conftest import XSS_PLAN, free_port, shot

pytestmark = pytest.mark.browser


class StaticServer:
    """``python -m http.server`` on a free loopback port, serving one folder."""

    def __init__(self, folder: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.url + "/", timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("http.server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """The site-handbook fixture plus the XSS probe, built and served by ``http.server``, its
    search index in several shards (as a large handbook's is) that the browser merges."""
    site_handbook = copy_fixture("site-handbook", tmp_path)
    (site_handbook / "xss-probe.md").write_text(XSS_PLAN, encoding="utf-8")
    out = tmp_path / "public"
    monkeypatch.setattr(search, "PAGES_PER_SHARD", 1)
    report = build(site_handbook, out)
    assert report.search
    bundles = json.loads((out / "pagefind" / "shards.json").read_text())["bundles"]
    edr = f"pagefind/shard-{search.shard_of('plans/edr-rollout/index.html', 8):02d}/"
    assert len(bundles) > 1 and edr in bundles[1:]  # found only if the shards are merged
    server = StaticServer(out)
    try:
        yield out, server.url
    finally:
        server.stop()


def _violations(page) -> list[str]:
    return [e for e in page.console_errors if e]  # CSP reports and failed loads are errors


def test_catalog_plan_with_image_and_relative_link(site, page) -> None:
    _, url = site
    page.goto(url + "/")
    rows = page.locator("table.catalog tbody tr")
    assert rows.count() == 6
    page.click("a.plan-link:has-text('EDR rollout')")
    page.wait_for_url(url + "/plans/edr-rollout/")
    image = page.locator("img[alt='Architecture of the agent rollout']")
    image.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth", image.element_handle()) == 40
    shot(page, "site-plan-with-image")
    page.click("text=choosing the vendor")
    page.wait_for_url(url + "/plans/edr-rollout/decisions/001.html")
    assert "Decision 001" in page.title()
    page.click("text=the rollout")
    page.wait_for_url(url + "/plans/edr-rollout/#summary")
    page.goto(url + "/plans/network/_index.html")  # Hugo section page, image beside it
    zones = page.locator("img[alt='Zone map']")
    assert page.evaluate("img => img.complete && img.naturalWidth", zones.element_handle()) == 20
    assert _violations(page) == []


def test_search_finds_a_word_from_a_plan_body(site, page) -> None:
    _, url = site
    page.goto(url + "/")
    page.fill("form[role=search] input[name=q]", "zebrafinch")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/search.html?q=zebrafinch")
    result = page.locator(".pagefind-ui__result").first
    result.wait_for(timeout=15000)
    assert "EDR rollout" in result.inner_text()
    assert page.locator(".pagefind-ui__result").count() == 1
    # Filters by status and label come from the pages' data-pagefind-filter attributes.
    filters = page.locator(".pagefind-ui__filter-panel").inner_text().lower()
    assert "status" in filters and "label" in filters
    shot(page, "site-search")
    result.locator("a").first.click()
    page.wait_for_url(url + "/plans/edr-rollout/**")
    assert _violations(page) == []


def test_every_page_loads_without_console_errors(site, page) -> None:
    out, url = site
    pages = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*.html")
        if "pagefind" not in p.parts and p.name != "404.html"
    )
    assert len(pages) >= 8
    for rel in pages:
        page.console_errors.clear()
        page.goto(f"{url}/{rel}")
        page.wait_for_load_state("load")
        errors = _violations(page)
        if rel == "plans/xss-probe.html":  # its <img src="x"> names no file; nothing else
            errors = [e for e in errors if not e.startswith("Failed to load resource")]
        assert errors == [], rel
    page.goto(url + "/search.html?q=patch")
    page.locator(".pagefind-ui__result").first.wait_for(timeout=15000)
    assert _violations(page) == []


def test_an_xss_plan_stays_inert(site, page) -> None:
    _, url = site
    for path in ("/plans/xss-probe.html", "/", "/plans/xss-probe.json", "/search.html?q=probe"):
        page.goto(url + path)
        page.wait_for_load_state("load")
        flags = page.evaluate("Object.keys(window).filter(k => k.startsWith('__xss'))")
        assert flags == [], (path, flags)
    page.goto(url + "/plans/xss-probe.html")
    page.click("text=click me")
    page.wait_for_timeout(200)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("Object.keys(window).filter(k => k.startsWith('__xss'))") == []
    assert "<script>" in page.title()
    shot(page, "site-xss-probe")
