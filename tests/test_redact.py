"""The shared secrets redactor, and every error path that goes through it: the CLI's
"cannot open the database" errors, configuration errors, the web's 503 and 500 pages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.redact import redact, url_secrets
from tests.conftest import EXAMPLE_HANDBOOK, run_cli

#: Nothing listens on port 1, so a PostgreSQL URL there fails fast with the URL in the error.
DEAD = "postgresql://planner:{pw}@127.0.0.1:1/secplan"
SECRETS = ("hunter2pw", "hunter3ssl", "hunter4q", "hunter5tok")
HOSTILE_URLS = [
    DEAD.format(pw=SECRETS[0]) + f"?sslpassword={SECRETS[1]}",
    "postgresql://planner@127.0.0.1:1/secplan" + f"?password={SECRETS[2]}&sslmode=prefer",
    "postgresql://planner@127.0.0.1:1/secplan" + f"?sslmode=prefer&api_token={SECRETS[3]}",
    f"mysql://planner:{SECRETS[0]}@h/db?password={SECRETS[2]}",  # unsupported: its own error
]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("postgresql://u:pw-1@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db?password=abc&sslmode=require", "?password=***&sslmode=require"),
        ("x?sslpassword=abc;client_secret=def", "?sslpassword=***;client_secret=***"),
        ("host=h password='a b' dbname=x", "host=h password=*** dbname=x"),
        ("{'auth_token': 'abc'}", "{'auth_token': '***'}"),
        ("sqlite:////a/b:c/d.db and see http://a/b:c@d", "sqlite:////a/b:c/d.db and see http"),
    ],
)
def test_redact_masks_url_passwords_and_secret_named_values(text: str, kept: str):
    out = redact(text)
    assert kept in out
    for secret in ("pw-1", "abc", "def", "'a b'"):
        assert secret not in out


def test_known_secrets_are_masked_wherever_they_appear():
    url = "postgresql://u:s%40cret@h/db?sslpassword=k3yfile"
    assert set(url_secrets(url)) >= {"s%40cret", "s@cret", "k3yfile"}
    driver = 'FATAL: password "s@cret" rejected; could not read "k3yfile"'
    assert "s@cret" not in redact(driver, url_secrets(url))
    assert "k3yfile" not in redact(driver, url_secrets(url))


@pytest.mark.parametrize("unit", ["a.", "&a", "'a", "a://b:", "x=password=", "a:b@"])
def test_redact_is_linear(unit: str):
    text = unit * (200_000 // len(unit))
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 2.0  # ~200 KB: a quadratic pattern takes minutes


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("command", [("plan",), ("apply",), ("issue", "list")])
def test_cannot_open_the_database_never_prints_a_password(
    tmp_path: Path, url: str, command: tuple[str, ...]
):
    result = run_cli(*command, "--root", str(EXAMPLE_HANDBOOK), "--database-url", url)
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    _assert_clean(result.stdout + result.stderr)


def test_configured_database_url_error_is_redacted(tmp_path: Path):
    (tmp_path / "secplan.toml").write_text(f'database_url = "{HOSTILE_URLS[0]}"\n')
    result = run_cli("coverage", "--root", str(tmp_path))
    assert "cannot open the database" in result.stderr
    _assert_clean(result.stdout + result.stderr)


def test_config_errors_name_the_key_and_type_never_the_value(tmp_path: Path):
    (tmp_path / "secplan.toml").write_text(
        f'database_url = ["{HOSTILE_URLS[0]}"]\n'
        f'web_users = {{ alice = "{SECRETS[3]}", bob = ["{SECRETS[2]}"] }}\n'
    )
    result = run_cli("check", "--root", str(tmp_path))
    assert result.returncode == 2
    _assert_clean(result.stdout + result.stderr)
    assert "'database_url' must be an SQLAlchemy database URL, got a list" in result.stderr
    assert "'web_users' entry 'alice' must be a password hash from" in result.stderr
    assert "'web_users' entry 'bob' must be a password hash (a string), got a list" in (
        result.stderr
    )


def test_web_503_pages_never_show_the_password(tmp_path: Path):
    from secplan.web.app import create_app
    from secplan.web.security import Auth

    app = create_app(EXAMPLE_HANDBOOK, database_url=HOSTILE_URLS[0], auth=Auth())
    with TestClient(app, base_url="http://127.0.0.1") as client:
        html = client.get("/board")
        data = client.get("/board.json")
        thread = client.get("/plans/admin-mfa")  # plans still show without the tracker
    assert html.status_code == data.status_code == 503
    assert "tracker unavailable" in html.text and "cannot open the database" in data.text
    assert thread.status_code == 200
    _assert_clean(html.text + data.text + thread.text)


def test_web_500_never_shows_the_error(tmp_path: Path):
    from secplan.web.app import create_app
    from secplan.web.security import Auth

    app = create_app(EXAMPLE_HANDBOOK, auth=Auth())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"cannot connect to {HOSTILE_URLS[0]}")

    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    _assert_clean(r.text)
