"""Pages and their JSON twins, on a copy of the example handbook (TestClient, real SQLite)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from secplan.tracker import open_tracker
from secplan.web.security import Auth
from tests.web.conftest import csrf


def test_catalog_lists_every_plan_with_status_epic_and_readiness(client: TestClient) -> None:
    data = client.get("/plans.json").json()
    by_id = {p["id"]: p for p in data["plans"]}
    assert {"ci-runner-secrets-rotation", "admin-mfa", "network/segmentation"} <= set(by_id)
    ready = by_id["ci-runner-secrets-rotation"]
    assert ready["status"] == "ready"
    assert ready["epic"] == "security&1"
    assert ready["readiness"] == {"errors": 0, "warnings": 0}
    # The review plan has gaps: at --require ready it has errors.
    assert by_id["vulnerability-sla-dashboard"]["readiness"]["errors"] > 0
    page = client.get("/").text
    assert 'href="/plans/network/segmentation"' in page
    assert "status-ready" in page


def test_catalog_counts_plans_by_status_with_filter_links(client: TestClient) -> None:
    html = client.get("/").text
    summary = re.search(r'<p class="status-summary">(.*?)</p>', html, re.S)
    assert summary is not None
    counts = re.findall(r'href="/\?status=(\w+)".*?<span class="num">(\d+)</span>', summary[1])
    # In the order of the lifecycle; the fixture adds two drafts to the example's four plans.
    assert counts == [
        ("draft", "2"),
        ("review", "1"),
        ("ready", "1"),
        ("implementing", "1"),
        ("superseded", "1"),
    ]
    # Filtering keeps the counts of the whole handbook and marks the chosen status.
    filtered = client.get("/", params={"status": "review"}).text
    assert 'href="/?status=draft"' in filtered and 'aria-current="true"' in filtered


def test_catalog_filters_and_search(client: TestClient) -> None:
    ids = lambda q: [p["id"] for p in client.get("/plans.json", params=q).json()["plans"]]  # noqa: E731
    assert ids({"status": "ready"}) == ["ci-runner-secrets-rotation"]
    assert ids({"label": "network"}) == ["network/segmentation"]
    assert ids({"owner": "nina.nested"}) == ["network/segmentation"]
    assert ids({"q": "secrets ROTATION"}) == ["ci-runner-secrets-rotation"]
    assert ids({"q": "no such words"}) == []
    html = client.get("/", params={"status": "implementing"}).text
    assert "Phishing-resistant MFA" in html
    assert "Secrets rotation for CI runners" not in html


def test_plan_page_json_twin(client: TestClient) -> None:
    data = client.get("/plans/ci-runner-secrets-rotation.json").json()
    assert data["id"] == "ci-runner-secrets-rotation"
    anchors = [s["anchor"] for s in data["sections"]]
    for anchor in anchors:
        assert f'id="{anchor}"' in data["html"]
    assert data["items"] and all("state" in i for i in data["items"])
    assert set(data["requirements"]) >= {"must", "should", "may"}
    assert any(c["item_count"] for c in data["coverage"])


def test_nested_plan_ids_work_and_traversal_is_404(client: TestClient) -> None:
    assert client.get("/plans/network/segmentation").status_code == 200
    assert client.get("/plans/network/segmentation.json").json()["title"].startswith("Nested")
    for bad in (
        "/plans/../secplan.toml",
        "/plans/..%2Fsecplan.toml",
        "/plans/%2e%2e/%2e%2e/etc/passwd",
        "/plans/network/../../secplan.toml",
        "/plans//etc/passwd",
        "/plans/index",
        "/plans/secplan.toml",
        "/plans/no-such-plan.json",
    ):
        r = client.get(bad, follow_redirects=False)
        assert r.status_code == 404, bad
        assert "security" not in r.text.lower() or "no plan" in r.text.lower()


def test_links_between_plans_point_at_plan_pages(client: TestClient) -> None:
    html = client.get("/plans/network/segmentation").text
    assert 'href="/plans/ci-runner-secrets-rotation#design"' in html
    r = client.get("/plans/admin-mfa/index.md", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/plans/admin-mfa/"


def test_live_reload_edit_add_delete(client: TestClient, handbook: Path) -> None:
    path = handbook / "network" / "segmentation.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## Current state {#current}", "## Present state {#now}"), "utf-8")
    # Same size is possible; make sure the mtime moves even on coarse filesystems.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    html = client.get("/plans/network/segmentation").text
    assert 'id="now"' in html and 'id="current"' not in html
    (handbook / "fresh.md").write_text("---\ntitle: Fresh plan\n---\n\n# Fresh\n", "utf-8")
    assert client.get("/plans/fresh").status_code == 200
    assert "fresh" in [p["id"] for p in client.get("/plans.json").json()["plans"]]
    (handbook / "fresh.md").unlink()
    time.sleep(0.01)
    assert "fresh" not in [p["id"] for p in client.get("/plans.json").json()["plans"]]
    assert client.get("/plans/fresh").status_code == 404


def test_epic_board_and_progress_from_the_tracker(client: TestClient, handbook: Path) -> None:
    with open_tracker(handbook) as tracker:
        epic = tracker.create_epic("security", "Secrets rotation epic")
        a = tracker.create_issue("security/planning", "Inventory", labels=["ci"], epic=epic.ref)
        tracker.create_issue("security/planning", "Pilot", labels=["vault"], epic=epic.ref)
        tracker.close_issue(a.ref)
    assert epic.ref == "security&1"
    data = client.get("/epics/security&1.json").json()
    assert data["total"] == 2 and data["closed"] == 1
    assert [p["id"] for p in data["plans"]] == ["ci-runner-secrets-rotation"]
    assert "Inventory" in client.get("/epics/security%261").text
    assert client.get("/epics/security&99").status_code == 404
    assert client.get("/epics/not-a-ref").status_code == 404
    board = client.get("/board.json", params={"label": "vault"}).json()
    opened, closed = board["columns"]
    assert [i["title"] for i in opened["issues"]] == ["Pilot"] and closed["issues"] == []
    board = client.get("/board.json").json()
    assert [len(c["issues"]) for c in board["columns"]] == [1, 1]
    capped = client.get("/board.json", params={"limit": 1}).json()["columns"]
    assert [c["count"] for c in capped] == [1, 1]
    row = next(
        p
        for p in client.get("/plans.json").json()["plans"]
        if p["id"] == "ci-runner-secrets-rotation"
    )
    # Progress counts the plan's work items (as `secplan status` does): issues made by hand
    # under the epic are not items of the plan, so nothing is done yet.
    assert row["progress"] == {"closed": 0, "total": 8, "percent": 0}
    svg = client.get("/plans/ci-runner-secrets-rotation/progress")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text
    assert not re.search(r"<script|\son\w+=", svg.text)


def test_board_cards_and_epic_page_show_assignees(client: TestClient, handbook: Path) -> None:
    with open_tracker(handbook) as tracker:
        epic = tracker.create_epic("security", "Assigned work")
        tracker.create_issue(
            "security/planning", "Two people", assignees=["ana", "<b>bo</b>"], epic=epic.ref
        )
        tracker.create_issue("security/planning", "Nobody", epic=epic.ref)
    cards = {
        card["title"]: card
        for col in client.get("/board.json").json()["columns"]
        for card in col["issues"]
    }
    assert cards["Two people"]["assignees"] == ["ana", "<b>bo</b>"]
    assert cards["Nobody"]["assignees"] == []
    expected = (
        '<span class="assignees"><span class="assignee">@ana</span> '
        '<span class="assignee">@&lt;b&gt;bo&lt;/b&gt;</span></span>'
    )
    board = client.get("/board").text
    assert expected in board and board.count('class="assignees"') == 1
    data = client.get(f"/epics/{epic.ref}.json").json()
    by_title = {i["title"]: i for m in data["milestones"] for i in m["issues"]}
    assert by_title["Two people"]["assignees"] == ["ana", "<b>bo</b>"]
    page = client.get(f"/epics/{epic.ref}").text
    assert expected in page and page.count('class="assignees"') == 1


def test_openapi_spec_lists_the_json_twins(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/plans.json",
        "/plans/{plan_id}.json",
        "/board.json",
        "/plans/{plan_id}/threads",
    } <= paths


def test_catalog_pages_through_many_plans(client: TestClient, handbook: Path) -> None:
    for i in range(30):
        (handbook / f"bulk-{i:02d}.md").write_text(f"---\ntitle: Bulk {i}\n---\n\n# B\n", "utf-8")
    data = client.get("/plans.json", params={"q": "bulk", "limit": 20}).json()
    assert data["matched"] == 30 and len(data["plans"]) == 20
    rest = client.get("/plans.json", params={"q": "bulk", "limit": 20, "offset": 20}).json()
    assert [p["id"] for p in rest["plans"]] == [f"bulk-{i:02d}" for i in range(20, 30)]
    html = client.get("/", params={"q": "bulk", "limit": 20}).text
    assert "Plans 1–20 of 30 matching" in html
    assert 'href="/?q=bulk&amp;offset=20&amp;limit=20"' in html
    assert client.get("/plans.json", params={"limit": 0}).status_code == 422


def test_plan_ids_with_odd_characters_are_quoted_in_links(
    client: TestClient, handbook: Path
) -> None:
    (handbook / "odd name#1.md").write_text("---\ntitle: Odd plan\n---\n\n# Odd\n", "utf-8")
    html = client.get("/", params={"q": "odd"}).text
    assert 'href="/plans/odd%20name%231"' in html
    assert client.get("/plans/odd%20name%231").status_code == 200


def test_plan_shows_remaining_work_from_coverage(client: TestClient) -> None:
    data = client.get("/plans/vulnerability-sla-dashboard.json").json()["remaining"]
    assert data["totals"]["uncovered"] == len(data["uncovered"]) > 0  # nothing synced yet
    assert any(c["kind"] == "marker" and "TODO" in c["text"] for c in data["candidates"])
    html = client.get("/plans/vulnerability-sla-dashboard").text
    assert "Remaining work" in html and "Items without an issue" in html


def test_a_broken_database_still_shows_the_plans(handbook: Path) -> None:
    from secplan.web.app import create_app

    (handbook / ".secplan").mkdir(exist_ok=True)
    (handbook / ".secplan" / "secplan.db").write_bytes(b"this is not a database" * 100)
    with TestClient(create_app(handbook, auth=Auth()), base_url="http://127.0.0.1") as c:
        assert c.get("/").status_code == 200
        page = c.get("/plans/ci-runner-secrets-rotation")
        assert page.status_code == 200 and 'id="design"' in page.text
        assert c.get("/board.json").status_code == 503
        token = csrf(c)
        r = c.post(
            "/plans/ci-runner-secrets-rotation/threads",
            data={"section": "design", "body": "x", "csrf_token": token},
        )
        assert r.status_code == 503
    assert (handbook / ".secplan" / "secplan.db").read_bytes().startswith(b"this is not")


def test_an_unreadable_plan_fixed_in_place_comes_back(client: TestClient, handbook: Path) -> None:
    bad = handbook / "broken.md"
    bad.write_bytes(b"---\ntitle: Broken\n---\n\xff\xfe not utf-8\n")
    data = client.get("/plans.json").json()
    assert any(e["path"] == "broken.md" for e in data["errors"])
    assert "broken" not in [p["id"] for p in data["plans"]]
    assert "broken.md" in client.get("/").text  # listed under files that could not be read
    bad.write_text("---\ntitle: Broken no more\n---\n\n# Fixed\n", "utf-8")
    st = bad.stat()
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    data = client.get("/plans.json").json()
    assert not data["errors"]
    assert "broken" in [p["id"] for p in data["plans"]]


def test_a_superseded_plan_points_to_its_successor(client: TestClient) -> None:
    assert client.get("/plans/bastion-host-hardening.json").json()["superseded_by"] == "admin-mfa"
    html = client.get("/plans/bastion-host-hardening").text
    notice = re.search(r'<p class="notice">(.*?)</p>', html, re.S)
    assert notice is not None
    assert 'href="/plans/admin-mfa/">Phishing-resistant MFA for administrators</a>' in notice[1]
    assert '<p class="notice">' not in client.get("/plans/admin-mfa").text
    # Nothing to count: no empty coverage table, and the item list says so.
    assert '<section class="coverage">' not in html
    assert '<section class="work-items">' in html and "None." in html
