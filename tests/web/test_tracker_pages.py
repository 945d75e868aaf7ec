"""Issue pages, the epics index, the board's workflow columns and filters, the roadmap, the API
page and tracker refs as links: TestClient on the demo (and on a handbook made for a case)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.config import load_config
from secplan.errors import ConfigError
from secplan.tracker import open_tracker
from secplan.web.demo import prepare_demo
from secplan.web.security import Auth

HTML = {"accept": "text/html"}
PLAN = "ci-runner-secrets-rotation"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo(demo_root: Path) -> Iterator[TestClient]:
    from secplan.web.app import create_app

    with TestClient(
        create_app(demo_root, auth=Auth(), scan_interval=0.0), base_url="http://127.0.0.1"
    ) as c:
        yield c


def _item_issue(demo: TestClient, item: str = "inventory") -> dict:
    items = demo.get(f"/plans/{PLAN}.json").json()["items"]
    return next(i for i in items if i["id"] == item)


# -- issue pages --------------------------------------------------------------------------------


def test_issue_page_shows_the_issue_and_links_its_plan_item(demo: TestClient) -> None:
    item = _item_issue(demo)
    ref = item["ref"]
    project, iid = ref.split("#")
    data = demo.get(f"/issues/{project}/{iid}.json").json()
    assert data["ref"] == ref and data["state"] == item["state"]
    assert data["plan_item"] == {
        "plan": PLAN,
        "plan_title": "Secrets rotation for CI runners",
        "item": "inventory",
        "title": item["title"],
        "section": item["section"],
        "line": item["line"],
        "credited": True,
    }
    assert data["milestone"] == "Discovery" and data["milestone_due"] == "2027-01-22"
    assert data["notes"] and data["notes"][0]["body"] == "Done (demo data)."
    page = demo.get(f"/issues/{project}/{iid}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert f'href="/plans/{PLAN}#{item["section"]}"' in html  # the item's section
    assert 'href="/epics/security%261"' in html  # its epic
    assert 'href="/roadmap#ms-discovery"' in html  # its milestone on the roadmap
    assert "Done (demo data)." in html and "amara.okafor" in html
    assert f'href="/issues/{project}/{iid}.json"' in html  # the JSON twin
    # The ref itself, quoted, names the same page.
    assert demo.get(f"/issues/{project}%23{iid}", headers=HTML).text == html


def test_unknown_issue_is_an_html_404_and_its_twin_a_json_404(demo: TestClient) -> None:
    for accept in ({"accept": "*/*"}, HTML):
        r = demo.get("/issues/security/planning/9999", headers=accept)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "no issue security/planning#9999" in r.text and "<h1>404</h1>" in r.text
    r = demo.get("/issues/security/planning/9999.json")
    assert r.status_code == 404 and r.json() == {
        "detail": "the tracker has no issue security/planning#9999"
    }
    assert (
        demo.get("/epics/security%2699", headers={"accept": "*/*"})
        .headers["content-type"]
        .startswith("text/html")
    )


def test_every_ref_on_board_epic_and_plan_pages_links_to_a_page(demo: TestClient) -> None:
    pages = ["/board", "/epics/security%261", f"/plans/{PLAN}", "/epics/", "/"]
    for url in pages:
        html = demo.get(url, headers=HTML).text
        if url.startswith("/plans/"):  # the side panel's item list (the body is the plan's)
            html = "".join(re.findall(r"<li data-item=.*?</li>", html, re.S))
            assert html
        assert not re.search(r'<code class="ref">[^<]*</code>(?! <small class="not-in)', html), url
        for href in re.findall(r'class="ref" href="([^"]+)"', html):
            assert demo.get(href, headers=HTML).status_code == 200, (url, href)
    plan = demo.get(f"/plans/{PLAN}", headers=HTML).text
    assert '<a class="ref" href="/issues/security/planning/5">security/planning#5</a>' in plan


def test_an_epic_the_tracker_lacks_is_plain_text_marked(handbook: Path) -> None:
    from secplan.web.app import create_app

    plan = handbook / "ci-runner-secrets-rotation.md"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(re.sub(r"(?m)^epic: .*$", "epic: security&77", text), encoding="utf-8")
    with open_tracker(handbook) as tracker:  # a tracker that has other epics, not this one
        tracker.create_epic("security", "Another initiative")
    with TestClient(create_app(handbook, auth=Auth()), base_url="http://127.0.0.1") as c:
        for url in ("/", f"/plans/{PLAN}"):
            html = c.get(url, headers=HTML).text
            assert 'href="/epics/security%2677"' not in html, url
            assert (
                '<code class="ref">security&amp;77</code> <small class="not-in-tracker"' in html
            ), url
            assert "not in the tracker" in html


# -- epics index ---------------------------------------------------------------------------------


def test_epics_index_with_and_without_slash(demo: TestClient) -> None:
    a = demo.get("/epics", headers=HTML, follow_redirects=False)
    b = demo.get("/epics/", headers=HTML, follow_redirects=False)
    assert a.status_code == b.status_code == 200
    assert a.headers["content-type"].startswith("text/html") and a.text == b.text
    data = demo.get("/epics.json").json()["epics"]
    mine = next(e for e in data if e["ref"] == "security&1")
    assert mine["plans"] == [{"id": PLAN, "title": "Secrets rotation for CI runners"}]
    epic = demo.get("/epics/security&1.json").json()
    assert (mine["closed"], mine["total"]) == (epic["closed"], epic["total"])
    assert f'<progress max="{mine["total"]}" value="{mine["closed"]}">' in a.text


# -- board ---------------------------------------------------------------------------------------


def test_board_has_workflow_columns_and_filters(demo: TestClient) -> None:
    board = demo.get("/board.json").json()
    assert board["scope"] == "workflow"
    cols = {c["title"]: c for c in board["columns"]}
    assert list(cols) == ["Open", "doing", "review", "Closed"]
    assert cols["doing"]["label"] == "workflow::doing"
    for card in cols["doing"]["issues"]:
        assert "workflow::doing" in card["labels"] and card["state"] == "opened"
    assert all("workflow::doing" not in c["labels"] for c in cols["Open"]["issues"])
    total = sum(c["count"] for c in board["columns"])

    def count(**query: str) -> int:
        data = demo.get("/board.json", params=query).json()
        assert data["filters"] == {"label": "", "milestone": "", "assignee": "", "plan": ""} | query
        return sum(c["count"] for c in data["columns"])

    assert 0 < count(assignee="amara.okafor") < total
    assert 0 < count(milestone="Pilot") < total
    assert 0 < count(plan="admin-mfa") < total
    assert 0 < count(label="workflow::review") < total
    assert count(plan="admin-mfa", milestone="Pilot") == 0
    # The page is a plain GET form: filters in the query string, no script needed.
    html = demo.get("/board?plan=admin-mfa", headers=HTML).text
    assert '<form class="filters" method="get" action="/board">' in html
    for name in ("assignee", "milestone", "label", "plan"):
        assert f'<select name="{name}">' in html
    assert '<option value="admin-mfa" selected>' in html
    assert html.count('class="card"') == count(plan="admin-mfa")


def test_board_scope_is_configurable(handbook: Path) -> None:
    from secplan.web.app import create_app

    (handbook / "secplan.toml").write_text(
        (handbook / "secplan.toml").read_text(encoding="utf-8") + '\nboard_scope = "stage"\n'
        if (handbook / "secplan.toml").exists()
        else 'board_scope = "stage"\n',
        encoding="utf-8",
    )
    with open_tracker(handbook) as tracker:
        tracker.create_issue("security/planning", "A", labels=["stage::build"])
        tracker.create_issue("security/planning", "B", labels=["workflow::doing"])
    with TestClient(create_app(handbook, auth=Auth()), base_url="http://127.0.0.1") as c:
        board = c.get("/board.json").json()
    assert [(col["title"], col["count"]) for col in board["columns"]] == [
        ("Open", 1),
        ("build", 1),
        ("Closed", 0),
    ]


def test_board_scope_must_be_a_scope(tmp_path: Path) -> None:
    (tmp_path / "secplan.toml").write_text('board_scope = "workflow::doing"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="board_scope"):
        load_config(tmp_path)


# -- roadmap -------------------------------------------------------------------------------------


def test_roadmap_lists_milestones_with_due_dates_and_progress(demo: TestClient) -> None:
    data = demo.get("/roadmap.json").json()
    titles = [m["title"] for m in data["milestones"]]
    # By due date; a milestone without one comes last.
    assert titles[:3] == ["Hardware keys issued", "Enforced for admin groups", "Discovery"]
    assert titles[-1] == "Alerts"
    discovery = next(m for m in data["milestones"] if m["title"] == "Discovery")
    assert discovery == {
        "title": "Discovery",
        "anchor": "ms-discovery",
        "start": "2027-01-04",
        "due": "2027-01-22",
        "state": "opened",
        "plans": [PLAN],
        "closed": 2,
        "total": 2,
        "percent": 100,
    }
    html = demo.get("/roadmap", headers=HTML).text
    assert '<tr id="ms-discovery">' in html and f'id="plan-{PLAN}"' in html
    svg = re.search(r"<svg .*?</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0) and "<title" in svg.group(0) and "<desc" in svg.group(0)
    assert "Discovery: from 2027-01-04 due 2027-01-22, 2 of 2 items done." in svg.group(0)
    assert "style=" not in html  # the strict CSP forbids style attributes
    one = demo.get("/roadmap.json", params={"plan": PLAN}).json()
    assert [m["title"] for m in one["milestones"]] == ["Discovery", "Pilot", "Rollout"]
    page = demo.get(f"/roadmap?plan={PLAN}", headers=HTML).text
    assert "Roadmap: Secrets rotation for CI runners" in page
    assert "Hardware keys issued" not in page.split("<select")[0]
    missing = demo.get("/roadmap?plan=nope", headers=HTML)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert demo.get("/roadmap.json?plan=nope").status_code == 404


def test_roadmap_without_a_tracker_counts_ticked_items(client: TestClient) -> None:
    data = client.get("/roadmap.json").json()
    assert {m["title"] for m in data["milestones"]} >= {"Discovery", "Pilot", "Rollout"}
    assert all(m["state"] is None for m in data["milestones"])  # none in a tracker
    assert client.get("/roadmap", headers=HTML).status_code == 200


# -- API page ------------------------------------------------------------------------------------


def test_api_page_serves_swagger_ui_locally_under_its_own_csp(demo: TestClient) -> None:
    page = demo.get("/api", headers=HTML)
    assert page.status_code == 200
    assert '<script src="/api/assets/swagger-ui-bundle.js" defer>' in page.text
    assert '<div id="swagger-ui" data-url="/openapi.json">' in page.text
    assert not re.search(r"https?://(?!127\.0\.0\.1)", page.text.split("<main>")[1])
    csp = page.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "script-src 'self';" in csp and "default-src 'none'" in csp
    asset = demo.get("/api/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    # Every other page keeps the strict policy.
    assert "'unsafe-inline'" not in demo.get("/board").headers["content-security-policy"]
    assert 'href="/api"' in demo.get("/", headers=HTML).text  # the nav's "API"


def test_refs_are_not_marked_missing_before_any_sync(client: TestClient, handbook: Path) -> None:
    html = client.get("/", headers=HTML).text
    assert '<code class="ref">security&amp;1</code>' in html
    assert "not in the tracker" not in html
    assert not (handbook / ".secplan" / "secplan.db").exists()
