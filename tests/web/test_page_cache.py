"""Cached pages with ETags, the watcher thread, and what requests no longer do."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.web import plans_cache
from secplan.web.app import create_app
from secplan.web.page_cache import CSRF_PLACEHOLDER
from secplan.web.security import Auth
from tests.web.conftest import csrf

PLAN = "/plans/ci-runner-secrets-rotation"


def test_etag_and_304_and_a_new_tag_after_an_edit(client: TestClient, handbook: Path) -> None:
    first = client.get(PLAN)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"')
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(PLAN, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["content-security-policy"]  # the security headers stay on a 304
    # Served from the cache, the page still carries this browser's own CSRF token.
    token = csrf(client)
    page = client.get(PLAN).text
    assert f'name="csrf_token" value="{token}"' in page and CSRF_PLACEHOLDER not in page
    # An edit of the plan file changes the page and its tag.
    path = handbook / "ci-runner-secrets-rotation.md"
    path.write_text(
        path.read_text().replace("# Secrets rotation", "# Edited rotation", 1), encoding="utf-8"
    )
    edited = client.get(PLAN, headers={"If-None-Match": tag})
    assert edited.status_code == 200 and "Edited rotation" in edited.text
    assert edited.headers["etag"] != tag


def test_another_browser_gets_its_own_token_and_tag(handbook: Path) -> None:
    app = create_app(handbook, auth=Auth(), scan_interval=0.0)
    with (
        TestClient(app, base_url="http://127.0.0.1") as one,
        TestClient(app, base_url="http://127.0.0.1") as two,
    ):
        a, b = one.get(PLAN), two.get(PLAN)
        assert a.headers["etag"] != b.headers["etag"]
        assert two.get(PLAN, headers={"If-None-Match": a.headers["etag"]}).status_code == 200
        assert csrf(one) != csrf(two)
        assert f'value="{csrf(two)}"' in two.get(PLAN).text
        assert app.state.ctx.pages.hits >= 2  # the second browser's page came from the cache


def test_a_new_thread_changes_the_cached_page(client: TestClient) -> None:
    tag = client.get(PLAN).headers["etag"]
    token = csrf(client)
    client.post(
        f"{PLAN}/threads", data={"section": "design", "body": "Cached?", "csrf_token": token}
    )
    r = client.get(PLAN, headers={"If-None-Match": tag})
    assert r.status_code == 200 and "Cached?" in r.text


def test_errors_and_assets_are_not_cached(client: TestClient) -> None:
    assert client.get("/plans/nope").status_code == 404
    assert "etag" not in client.get("/plans/nope").headers
    page = client.get("/plans/nope", headers={"Accept": "text/html"}).text
    assert CSRF_PLACEHOLDER not in page


def _wait_for(check, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def watched(handbook: Path):
    """The app with its watcher thread running (as ``secplan serve`` runs it)."""
    app = create_app(handbook, auth=Auth(), scan_interval=0.05)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert app.state.ctx.plans.watching
        yield c
    assert not app.state.ctx.plans.watching  # stopped with the app


def test_the_watcher_brings_edits_new_and_deleted_plans_in(watched: TestClient, handbook: Path):
    path = handbook / "ci-runner-secrets-rotation.md"
    tag = watched.get(PLAN).headers["etag"]
    path.write_text(
        path.read_text().replace("# Secrets rotation", "# Watched rotation", 1), encoding="utf-8"
    )
    assert _wait_for(lambda: "Watched rotation" in watched.get(PLAN).text)
    assert watched.get(PLAN, headers={"If-None-Match": tag}).status_code == 200
    (handbook / "brand-new.md").write_text("---\ntitle: Brand new\n---\n# Brand new\n")
    assert _wait_for(lambda: watched.get("/plans/brand-new").status_code == 200)
    assert "Brand new" in watched.get("/").text
    (handbook / "brand-new.md").unlink()
    assert _wait_for(lambda: watched.get("/plans/brand-new").status_code == 404)


def test_requests_never_stat_plan_files_while_the_watcher_runs(
    watched: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: Counter[str] = Counter()
    real = plans_cache._stamp

    def counting(path: Path):
        calls[threading.current_thread().name] += 1
        return real(path)

    monkeypatch.setattr(plans_cache, "_stamp", counting)
    for url in ("/", "/?status=ready", PLAN, f"{PLAN}.json", "/plans.json", "/plans/nope"):
        watched.get(url)
    assert _wait_for(lambda: calls["secplan-watcher"] > 0)  # the watcher does look
    assert set(calls) == {"secplan-watcher"}  # and nobody else


def test_facets_are_computed_at_load(client: TestClient, handbook: Path) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    facets = ctx.plans.facets
    assert "network" in facets.labels and facets.status_counts["ready"] >= 1
    before = ctx.plans.version
    client.get("/")
    assert ctx.plans.facets is facets and ctx.plans.version == before  # nothing reloaded
    (handbook / "new-label.md").write_text("---\ntitle: L\nlabels: [brandnewlabel]\n---\n# L\n")
    assert "brandnewlabel" in client.get("/").text
    assert "brandnewlabel" in ctx.plans.facets.labels


def test_the_watcher_reads_the_tracker_once_per_change(watched: TestClient, handbook: Path):
    from secplan.tracker import open_tracker

    ctx = watched.app.state.ctx  # type: ignore[attr-defined]
    with open_tracker(handbook) as tracker:
        epic = tracker.create_epic("security", "Secrets rotation epic")
        issue = tracker.create_issue("security/planning", "Inventory", epic=epic.ref)

    def epic_json() -> dict:
        r = watched.get("/epics/security&1.json")
        return r.json() if r.status_code == 200 else {}

    assert _wait_for(lambda: epic_json().get("total") == 1)
    version = ctx.tracker_version
    time.sleep(0.3)  # several scans: the database did not change, the snapshot stays
    assert ctx.tracker_version == version
    with open_tracker(handbook) as tracker:
        tracker.close_issue(issue.ref)
    assert _wait_for(lambda: epic_json().get("closed") == 1)
    assert ctx.tracker_version > version
