"""In chromium against ``secplan serve`` on the demo: catalog -> plan -> an item's issue -> its
epic -> board -> roadmap, by clicking; and the API page's Swagger UI under its CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from secplan.web.demo import prepare_demo
from tests.web.conftest import LiveServer, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(prepare_demo(tmp_path_factory.mktemp("demo")))
    try:
        yield server
    finally:
        server.stop()


def _csp_errors(page) -> list[str]:
    return [e for e in page.console_errors if "Content Security Policy" in e]


def test_click_from_catalog_to_issue_epic_board_and_roadmap(demo_server: LiveServer, page):
    page.goto(demo_server.url + "/")
    page.click("a.plan-link:has-text('Secrets rotation for CI runners')")
    page.wait_for_url("**/plans/ci-runner-secrets-rotation")

    # The item's issue, from the plan's list of work items.
    page.click("li[data-item=inventory] a.ref")
    page.wait_for_url("**/issues/security/planning/5")
    assert "Inventory every credential" in page.locator("h1").inner_text()
    facts = page.locator("dl.facts").inner_text()
    assert "Discovery" in facts and "due 2027-01-22" in facts and "@amara.okafor" in facts
    assert page.locator(".note").count() >= 1
    shot(page, "tracker-issue")

    # Back to the item's section, then forward to the issue's epic.
    page.click("a.item-ref")
    page.wait_for_url("**/plans/ci-runner-secrets-rotation#discovery")
    assert page.evaluate("document.querySelector(':target').id") == "discovery"
    page.go_back()
    page.wait_for_url("**/issues/security/planning/5")
    page.click("dl.facts a.ref")
    page.wait_for_url(re.compile(r"/epics/security(%26|&)1$"))
    assert page.locator("section.milestone-group").count() >= 2
    shot(page, "tracker-epic")

    page.click("header nav a:has-text('Board')")
    page.wait_for_url("**/board")
    titles = page.locator(".column h2").all_inner_texts()
    assert [t.split(" (")[0] for t in titles][:4] == ["Open", "doing", "review", "Closed"][:4]
    page.select_option("select[name=plan]", "admin-mfa")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"plan=admin-mfa"))
    cards = page.locator(".card")
    assert cards.count() >= 1
    assert all(
        "Phishing-resistant" in t for t in page.locator(".card a.plan-ref").all_inner_texts()
    )
    shot(page, "tracker-board-filtered")

    page.click("header nav a:has-text('Roadmap')")
    page.wait_for_url("**/roadmap")
    assert page.locator("svg.timeline-svg .ms-row").count() >= 5
    assert page.locator("table.roadmap tbody tr").count() >= 6
    shot(page, "tracker-roadmap-handbook")
    page.click("a:has-text('its timeline') >> nth=0")
    page.wait_for_url(re.compile(r"/roadmap\?plan="))
    shot(page, "tracker-roadmap-plan")
    assert not _csp_errors(page), page.console_errors


def test_api_page_renders_swagger_ui_from_the_local_copy(demo_server: LiveServer, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(demo_server.url + "/")
    page.click("header nav a:has-text('API')")
    page.wait_for_url("**/api")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() >= 10
    assert "/issues/{path}" in page.locator(".swagger-ui").inner_text()
    shot(page, "api-docs")
    assert all(u.startswith(demo_server.url) for u in requests), requests
    assert not _csp_errors(page), page.console_errors
