"""Security: headers, CSRF, XSS, authentication, refusing to bind non-loopback without auth."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.web.security import Auth, hash_password, is_loopback, verify_password
from tests.conftest import run_cli
from tests.web.conftest import csrf


def test_every_response_has_strict_security_headers(client: TestClient) -> None:
    for url in ("/", "/plans.json", "/plans/admin-mfa", "/no-such-page", "/static/style.css"):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"]


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for url in ("/", "/plans/ci-runner-secrets-rotation", "/board"):
        html = client.get(url).text
        assert "<script>" not in html  # only <script src="/static/app.js">
        assert " style=" not in html


def test_post_without_or_with_wrong_csrf_token_is_refused(client: TestClient) -> None:
    form = {"section": "summary", "body": "hello"}
    r = client.post("/plans/ci-runner-secrets-rotation/threads", data=form)
    assert r.status_code == 422  # the field is required
    r = client.post(
        "/plans/ci-runner-secrets-rotation/threads", data={**form, "csrf_token": "forged"}
    )
    assert r.status_code == 403
    # A token that matches no cookie (another browser's) is refused too.
    token = csrf(client)
    client.cookies.clear()
    r = client.post("/plans/ci-runner-secrets-rotation/threads", data={**form, "csrf_token": token})
    assert r.status_code == 403
    assert client.get("/plans/ci-runner-secrets-rotation.json").json()["threads"] == []


def test_forms_carry_the_token_of_the_cookie(client: TestClient) -> None:
    html = client.get("/plans/ci-runner-secrets-rotation").text
    token = csrf(client)
    assert token and f'name="csrf_token" value="{token}"' in html
    cookie = client.get("/").headers.get("set-cookie", "")
    assert cookie == ""  # not re-sent once the browser has it


def test_xss_payloads_are_inert_in_the_html(client: TestClient) -> None:
    for url in ("/plans/xss-probe", "/"):
        # Payload text may show (escaped); no parsed tag or attribute may carry it.
        tags = _tags(client.get(url).text)
        scripts = [attrs for tag, attrs in tags if tag == "script"]
        assert scripts == [{"src": "/static/app.js", "defer": None}], url
        assert not {"iframe", "style", "svg", "object", "embed"} & {t for t, _ in tags}
        for tag, attrs in tags:
            assert not [a for a in attrs if a.startswith("on")], (url, tag, attrs)
            for name in ("href", "src", "action"):
                value = "".join((attrs.get(name) or "").split()).lower()
                assert not value.startswith(("javascript:", "data:text")), (url, tag, attrs)
    svg = client.get("/plans/xss-probe/progress")
    assert svg.status_code == 200 and "<script" not in svg.text.lower()
    assert "default-src 'none'" in svg.headers["content-security-policy"]
    data = client.get("/plans/xss-probe.json").json()
    assert "<script" in data["title"]  # JSON keeps the data; HTML escapes it
    assert "&lt;script&gt;" in client.get("/plans/xss-probe").text


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def test_review_comment_is_escaped(client: TestClient) -> None:
    token = csrf(client)
    payload = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    r = client.post(
        "/plans/ci-runner-secrets-rotation/threads",
        data={"section": "summary", "body": payload, "csrf_token": token},
    )
    assert r.status_code == 200
    html = client.get("/plans/ci-runner-secrets-rotation").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_password_hashing_round_trip() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("scrypt$") and "correct" not in hashed
    assert verify_password("correct horse", hashed)
    assert not verify_password("wrong", hashed)
    assert not verify_password("x", "garbage")
    assert not verify_password("x", "scrypt$1$2$3$bad$bad")


def test_authentication_with_token_and_user(handbook: Path) -> None:
    from secplan.web.app import create_app

    auth = Auth.from_sources(
        {"alice": hash_password("s3cret")}, environ={"SECPLAN_WEB_TOKENS": "tok-1, tok-2"}
    )
    with TestClient(create_app(handbook, auth=auth), base_url="http://127.0.0.1") as c:
        r = c.get("/plans.json")
        assert r.status_code == 401 and "basic" in r.headers["www-authenticate"].lower()
        assert c.get("/", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer tok-2"}).status_code == 200
        good = base64.b64encode(b"alice:s3cret").decode()
        bad = base64.b64encode(b"alice:wrong").decode()
        assert c.get("/", headers={"Authorization": f"Basic {bad}"}).status_code == 401
        page = c.get("/", headers={"Authorization": f"Basic {good}"})
        assert page.status_code == 200 and "alice" in page.text
        # A signed-in user's comments carry their name, whatever the form says.
        c.headers["Authorization"] = f"Basic {good}"
        token = csrf(c)
        r = c.post(
            "/plans/admin-mfa/threads",
            data={"section": "summary", "body": "hi", "author": "mallory", "csrf_token": token},
        )
        assert r.status_code == 200, r.text
        assert r.json()["comments"][0]["author"] == "alice"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_serve_refuses_non_loopback_without_auth(handbook: Path, host: str) -> None:
    no_auth = {"SECPLAN_WEB_TOKENS": "", "SECPLAN_WEB_USERS": ""}
    result = run_cli("serve", str(handbook), "--host", host, "--port", "9", env=no_auth)
    assert result.returncode == 2
    assert "Error:" in result.stderr and "without authentication" in result.stderr
    assert "Hint:" in result.stderr and "SECPLAN_WEB_TOKENS" in result.stderr
    assert "Traceback" not in result.stderr


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")


def test_hash_password_command_prints_a_usable_hash() -> None:
    result = run_cli("serve", "--hash-password", input="pw123\n")
    assert result.returncode == 0, result.stderr
    assert verify_password("pw123", result.stdout.strip())
