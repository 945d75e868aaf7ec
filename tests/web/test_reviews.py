"""Review threads through the web: create, reply, resolve, reopen, feedback, outdated."""

from __future__ import annotations

import os
import re
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


def _section(html: str, anchor: str) -> str:
    """The part of the plan text from the section's heading to the next heading."""
    after = html.split(f'id="{anchor}"', 1)[1]
    return re.split(r"<h[1-6] id=", after, maxsplit=1)[0]


def test_browser_forms_land_on_the_new_thread_with_a_confirmation(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        f"{PLAN}/threads",
        data={"section": "risks", "body": "Risky", "csrf_token": token},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    tid = _threads(client)[0]["id"]
    assert r.status_code == 303
    assert r.headers["location"] == f"{PLAN}?posted=thread&thread={tid}#thread-{tid}"
    html = client.get(r.headers["location"]).text
    flash = '<p class="flash" id="flash" role="status" aria-live="polite">Thread started.</p>'
    assert flash in html
    assert "Thread started." not in client.get(PLAN).text  # only right after posting
    # The thread sits below its own section, and the heading carries the count.
    risks = _section(html, "risks")
    assert f'id="thread-{tid}"' in risks and "Risky" in risks
    in_thread = risks.split(f'id="thread-{tid}"', 1)[1]
    assert 'tabindex="-1"' in in_thread.split(">", 1)[0]
    assert in_thread.index(flash) < in_thread.index("Risky")  # the message is in the thread
    heading = html.split('<h2 id="risks">', 1)[1].split("</h2>", 1)[0]
    assert '<a class="badge open-threads" href="#review-risks">1 open thread</a>' in heading
    assert 'class="badge open-threads">1 open</span>' in risks
    other = _section(html, "design")
    assert "Risky" not in other and "open-threads" not in other.split("<section", 1)[0]
    # Replies and resolving land on the thread too, each with its message.
    r = client.post(
        f"/threads/{tid}/comments",
        data={"body": "Mitigated", "csrf_token": token},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"{PLAN}?posted=reply&thread={tid}#thread-{tid}"
    assert "Reply added." in client.get(r.headers["location"]).text
    r = client.post(
        f"/threads/{tid}/resolve",
        data={"csrf_token": token},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"{PLAN}?posted=resolved&thread={tid}#thread-{tid}"
    html = client.get(r.headers["location"]).text
    assert "Thread resolved." in html and "open thread" not in html.split("<aside", 1)[0]


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
