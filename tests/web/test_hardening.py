"""The server refuses requests from elsewhere and stays up on odd plan text."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.web import security
from secplan.web.charts import burnup_svg
from secplan.web.security import Auth, hash_password
from tests.web.conftest import csrf

PLAN = "/plans/ci-runner-secrets-rotation"
FORM = {"section": "summary", "body": "hello"}


def test_unknown_host_is_refused_dns_rebinding(client: TestClient):
    r = client.get("/plans.json", headers={"host": "evil.example:8000"})
    assert r.status_code == 421
    assert r.headers["x-content-type-options"] == "nosniff"
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/plans.json", headers={"host": host}).status_code == 200


def test_configured_host_names_are_allowed(handbook: Path, monkeypatch: pytest.MonkeyPatch):
    from secplan.web.app import create_app

    monkeypatch.setenv("SECPLAN_WEB_HOSTS", "plans.example.org")
    app = create_app(handbook, auth=Auth(), hosts=["10.0.0.5"])
    with TestClient(app, base_url="http://plans.example.org") as c:
        assert c.get("/plans.json").status_code == 200
        assert c.get("/plans.json", headers={"host": "10.0.0.5"}).status_code == 200
        assert c.get("/plans.json", headers={"host": "other.example"}).status_code == 421


def test_post_from_another_origin_is_refused(client: TestClient):
    token = csrf(client)
    data = {**FORM, "csrf_token": token}
    for origin in ("http://127.0.0.1:9999", "http://evil.example", "null"):
        r = client.post(f"{PLAN}/threads", data=data, headers={"origin": origin})
        assert r.status_code == 403, origin
    r = client.post(f"{PLAN}/threads", data=data, headers={"referer": "http://evil.example/x"})
    assert r.status_code == 403
    r = client.post(f"{PLAN}/threads", data=data, headers={"origin": "http://127.0.0.1"})
    assert r.status_code == 200


def test_a_tossed_cookie_with_its_own_value_as_token_is_refused(client: TestClient):
    tossed = "A" * 43  # set from another port of the same host
    client.cookies.set("secplan_csrf", tossed)
    r = client.post(f"{PLAN}/threads", data={**FORM, "csrf_token": tossed})
    assert r.status_code == 403
    assert csrf(client) != client.cookies.get("secplan_csrf")


def test_server_errors_carry_the_security_headers(handbook: Path):
    from secplan.web.app import create_app

    app = create_app(handbook, auth=Auth())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "title", ["Block javascript: URLs in the wiki", "Set only = true on runners", "Cost $5 a $"]
)
def test_burnup_chart_draws_benign_titles(title: str):
    svg = burnup_svg(title, [], [])
    assert svg.startswith("<?xml") and "<script" not in svg


def test_unknown_users_cost_a_password_check(monkeypatch: pytest.MonkeyPatch):
    checked: list[str] = []
    real = security.verify_password

    def counting(password: str, encoded: str) -> bool:
        checked.append(encoded)
        return real(password, encoded)

    monkeypatch.setattr(security, "verify_password", counting)
    auth = Auth(users={"rin": hash_password("right")})

    class Req:
        def __init__(self, user: str, password: str) -> None:
            value = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers = {"authorization": f"Basic {value}"}
            self.client = type("C", (), {"host": "10.0.0.1"})()

    assert auth.authenticate(Req("nobody", "x")) is None  # type: ignore[arg-type]
    assert checked == [security._dummy_hash()]
    assert auth.authenticate(Req("rin", "right")) == "rin"  # type: ignore[arg-type]


def test_wrong_passwords_are_throttled(handbook: Path):
    from secplan.web.app import create_app

    app = create_app(handbook, auth=Auth(users={"rin": hash_password("right")}))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        codes = [c.get("/plans.json", auth=("rin", "wrong")).status_code for _ in range(7)]
        assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
        # Even the right password waits for the window to pass.
        assert c.get("/plans.json", auth=("rin", "right")).status_code == 429


def test_feedback_on_an_anchor_with_a_slash_is_routed(client: TestClient):
    token = csrf(client)
    r = client.post(f"{PLAN}/sections/a%2Fb/feedback", data={"csrf_token": token})
    assert r.status_code == 404  # routed to the handler: no such section (was 405)
    assert "no section 'a/b'" in r.json()["detail"]


def test_redirect_after_a_thread_quotes_the_plan_id(client: TestClient, handbook: Path):
    (handbook / "why?.md").write_text("---\ntitle: Why\n---\n# Why\n\n## Summary\n\nText.\n")
    token = csrf(client)
    assert client.get("/plans/why%3F.json").status_code == 200
    r = client.post(
        "/plans/why%3F/threads",
        data={**FORM, "csrf_token": token},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/plans/why%3F?posted=thread&thread=1#thread-1"


def test_plan_page_with_a_huge_iid_is_served(handbook: Path):
    from secplan.web.app import create_app

    (handbook / "huge.md").write_text(
        "---\ntitle: Huge\nstatus: draft\nepic: security&99999999999999999999\n---\n"
        "# Huge\n\n- [ ] Huge ref security/planning#99999999999999999999\n",
        encoding="utf-8",
    )
    from tests.conftest import run_cli

    assert run_cli("apply", "--root", str(handbook)).returncode in (0, 1)  # a tracker to read
    app = create_app(handbook, auth=Auth(), scan_interval=0.0)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        for path in ("/plans/huge", "/plans/huge.json", "/plans/huge/progress", "/", "/board"):
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code)
        assert c.get("/epics/security&99999999999999999999").status_code in (400, 404)


def test_password_checks_run_off_the_event_loop(monkeypatch: pytest.MonkeyPatch, handbook: Path):
    import threading

    from secplan.web.app import create_app

    checked_on: list[int] = []
    real = security.verify_password

    def recording(password: str, encoded: str) -> bool:
        checked_on.append(threading.get_ident())
        return real(password, encoded)

    monkeypatch.setattr(security, "verify_password", recording)
    monkeypatch.setenv("SECPLAN_WEB_TOKENS", "tok-123456")
    app = create_app(handbook, auth=Auth.from_sources({"rin": hash_password("right")}))

    @app.get("/loop-thread")
    async def loop_thread() -> dict[str, int]:
        return {"ident": threading.get_ident()}  # an async route runs on the event loop

    with TestClient(app, base_url="http://127.0.0.1") as c:
        loop = c.get("/loop-thread", headers={"Authorization": "Bearer tok-123456"})
        assert loop.status_code == 200
        assert c.get("/plans.json", auth=("rin", "wrong")).status_code == 401
        assert c.get("/plans.json", auth=("nobody", "x")).status_code == 401
    assert len(checked_on) == 2
    assert loop.json()["ident"] not in checked_on  # scrypt never blocks the loop
