"""Review threads through the web: create, reply, resolve, reopen, feedback, outdated."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from tests.web.conftest import csrf

PLAN = "/plans/ci-runner-secrets-rotation"


def _threads(client: TestClient, plan: str = PLAN) -> list[dict]:
    return client.get(f"{plan}.json").json()["threads"]


def test_thread_lifecycle_in_json(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        f"{PLAN}/threads",
        data={"section": "design", "body": "Why Vault?", "author": "rita", "csrf_token": token},
    )
    assert r.status_code == 200, r.text
    tid = r.json()["id"]
    r = client.post(f"/threads/{tid}/comments", data={"body": "Because.", "csrf_token": token})
    assert r.status_code == 200
    [thread] = _threads(client)
    assert thread["section"] == "design" and thread["author"] == "rita"
    assert [c["body"] for c in thread["comments"]] == ["Why Vault?", "Because."]
    assert not thread["resolved"] and not thread["outdated"]
    assert client.post(f"/threads/{tid}/resolve", data={"csrf_token": token}).status_code == 200
    assert _threads(client)[0]["resolved"]
    r = client.post(f"/threads/{tid}/resolve", data={"csrf_token": token, "reopen": "true"})
    assert r.status_code == 200 and not _threads(client)[0]["resolved"]


def test_browser_forms_redirect_back_to_the_section(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        f"{PLAN}/threads",
        data={"section": "risks", "body": "Risky", "csrf_token": token},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"{PLAN}#risks"
    html = client.get(PLAN).text
    assert "Risky" in html and 'class="badge open-threads">1 open' in html


def test_bad_thread_requests(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(f"{PLAN}/threads", data={"section": "nope", "body": "x", "csrf_token": token})
    assert r.status_code == 422
    r = client.post(
        f"{PLAN}/threads", data={"section": "design", "body": "  ", "csrf_token": token}
    )
    assert r.status_code == 422
    r = client.post(
        "/plans/no-plan/threads", data={"section": "a", "body": "x", "csrf_token": token}
    )
    assert r.status_code == 404
    r = client.post("/threads/999/comments", data={"body": "x", "csrf_token": token})
    assert r.status_code == 404
    r = client.post("/threads/999/resolve", data={"csrf_token": token})
    assert r.status_code == 404


def test_feedback_requested_flag(client: TestClient) -> None:
    token = csrf(client)
    url = f"{PLAN}/sections/design/feedback"
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    cov = {c["anchor"]: c for c in client.get(f"{PLAN}.json").json()["coverage"]}
    assert cov["design"]["feedback_requested"] and not cov["goals"]["feedback_requested"]
    assert "feedback requested" in client.get(PLAN).text
    client.post(url, data={"csrf_token": token, "requested": "false"})
    cov = {c["anchor"]: c for c in client.get(f"{PLAN}.json").json()["coverage"]}
    assert not cov["design"]["feedback_requested"]
    r = client.post(f"{PLAN}/sections/nope/feedback", data={"csrf_token": token})
    assert r.status_code == 404


def test_thread_on_a_removed_section_shows_as_outdated(client: TestClient, handbook: Path) -> None:
    token = csrf(client)
    plan = "/plans/network/segmentation"
    r = client.post(
        f"{plan}/threads", data={"section": "current", "body": "Stale?", "csrf_token": token}
    )
    assert r.status_code == 200
    path = handbook / "network" / "segmentation.md"
    path.write_text(
        path.read_text("utf-8").replace("## Current state {#current}", "## Today {#today}"),
        "utf-8",
    )
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    data = client.get(f"{plan}.json").json()
    [thread] = data["threads"]
    assert thread["outdated"] and data["outdated_threads"] == [thread]
    html = client.get(plan).text
    assert "Outdated threads" in html and "Stale?" in html and "outdated" in html


def test_open_threads_count_against_readiness(client: TestClient) -> None:
    def readiness() -> dict:
        rows = client.get("/plans.json").json()["plans"]
        return next(p for p in rows if p["id"] == "ci-runner-secrets-rotation")["readiness"]

    assert readiness() == {"errors": 0, "warnings": 0}
    token = csrf(client)
    r = client.post(f"{PLAN}/threads", data={"section": "goals", "body": "?", "csrf_token": token})
    before = readiness()
    assert before["errors"] + before["warnings"] == 1  # SP501 unresolved-review-threads
    client.post(f"/threads/{r.json()['id']}/resolve", data={"csrf_token": token})
    assert readiness() == {"errors": 0, "warnings": 0}
