"""Fixtures for the web tests: a handbook copy with probe plans, a TestClient, a real server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import EXAMPLE_HANDBOOK, PROJECT

ARTIFACTS = PROJECT / "test-artifacts" / "web"

XSS_PLAN = """---
title: "XSS probe <script>window.__xss_title = 1</script>"
status: draft
owners: ["<img src=x onerror=window.__xss_owner=1>"]
resources:
  - title: "resource link"
    url: "javascript:window.__xss_res=1"
---

# Probe page

<script>alert('body script'); window.__xss_script = 1</script>

<img src="x" onerror="alert('img'); window.__xss_img = 1">

[a javascript link](javascript:alert('link'))

<iframe src="javascript:alert('iframe')"></iframe>

<a href="#probe-page" onclick="alert('click'); window.__xss_click = 1">click me</a>

<style>body { display: none }</style>

<svg onload="alert('svg')"><circle r="4"></circle></svg>

<div style="background: red">styled text</div>

## Work

- [ ] Probe item that has a description long enough to pass the detail threshold of twelve words
"""

NESTED_PLAN = """---
title: Nested network segmentation
status: draft
labels: [network]
owners: [nina.nested]
---

# Nested network segmentation

- TOC
{:toc}

## Current state {#current}

Text before the manual anchor.

[](){: name="manual-spot"}

## Target design
{:.no_toc}

See [the CI plan](../ci-runner-secrets-rotation.md#design) and [current](#current).

```
## not a heading
{:toc}
```
"""


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    """A private copy of the example handbook plus an XSS probe and a nested plan."""
    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    (root / "xss-probe.md").write_text(XSS_PLAN, encoding="utf-8")
    (root / "network").mkdir()
    (root / "network" / "segmentation.md").write_text(NESTED_PLAN, encoding="utf-8")
    return root


@pytest.fixture
def client(handbook: Path) -> Iterator[TestClient]:
    """A TestClient on the app for ``handbook`` (its own SQLite tracker under the root)."""
    from secplan.web.app import create_app
    from secplan.web.security import Auth

    # No authentication, whatever the developer's environment holds.
    app = create_app(handbook, auth=Auth(), scan_interval=0.0)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def csrf(client: TestClient) -> str:
    """The CSRF token a browser would get from any page (sets the cookie on the client)."""
    from secplan.web.security import csrf_token_of

    client.get("/")
    cookie = client.cookies.get("secplan_csrf")
    assert cookie
    return csrf_token_of(cookie)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Settings of the developer's own environment that must not leak into a test server.
_PRIVATE_ENV = {"SECPLAN_DATABASE_URL", "SECPLAN_WEB_TOKENS", "SECPLAN_WEB_USERS"}


class LiveServer:
    """``secplan serve`` running in a real subprocess."""

    def __init__(
        self,
        root: Path | None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        cwd: Path | None = None,
        timeout: float = 60,
    ) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENV}
        full_env.update(env or {})
        where = root.parent if root is not None else (cwd or Path.cwd())
        self.log = where / f"server-{self.port}.log"
        self._log = self.log.open("w")
        target = [str(root)] if root is not None else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "secplan", "serve", *target, "--port", str(self.port), *args],
            env=full_env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/plans.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture
def live_server(handbook: Path) -> Iterator[LiveServer]:
    """A real uvicorn server (``secplan serve``) on a free loopback port."""
    server = LiveServer(handbook)
    try:
        yield server
    finally:
        server.stop()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by Playwright (skipped when absent, except in CI)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is required in CI (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest):
    """A fresh browser page; dialogs are recorded (and dismissed) in ``page.dialogs``."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    # Console errors, e.g. Content-Security-Policy violations: our own pages must cause none.
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.console_errors = errors  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # the page may be gone after a failure
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
        context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/web/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
