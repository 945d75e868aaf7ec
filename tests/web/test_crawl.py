"""Every link of the demo resolves: a crawler over ``secplan serve --demo``'s data follows each
same-origin link (pages, their JSON twins, stylesheets, scripts, images) from the catalog and
fails on any answer but 200 and on any ``#anchor`` the target page does not have."""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from secplan.web.demo import prepare_demo
from secplan.web.security import Auth

ORIGIN = "http://127.0.0.1"
#: Pages at most (the demo has about a hundred; a loop in the links would stop here).
LIMIT = 2000


class _Page(HTMLParser):
    """The ids (and legacy ``name`` anchors) of a page and the URLs it links or loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(str(a[key]))
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "link", "img", "script"):
                self.links.append(str(a[key]))


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_demo(tmp_path_factory.mktemp("demo"))


def crawl(client: TestClient, start: str = "/") -> tuple[dict[str, set[str] | None], list[str]]:
    """Follow every same-origin link from ``start``: (URLs seen, problems found)."""
    seen: dict[str, set[str] | None] = {}  # URL without fragment -> ids (None: not HTML)
    wanted: list[tuple[str, str, str]] = []  # (page, target URL, fragment)
    problems: list[str] = []
    queue = deque([start])
    while queue and len(seen) < LIMIT:
        url = queue.popleft()
        if url in seen:
            continue
        r = client.get(url, headers={"accept": "text/html"}, follow_redirects=False)
        seen[url] = None
        if r.status_code != 200:
            problems.append(f"{url}: {r.status_code}")
            continue
        if not r.headers["content-type"].startswith("text/html"):
            continue
        page = _Page()
        page.feed(r.text)
        seen[url] = page.ids
        for link in page.links:
            parts = urlsplit(urljoin(ORIGIN + url, link))
            if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
                continue  # another site (a resource link of a plan)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.fragment:
                wanted.append((url, path, unquote(parts.fragment)))
            if path not in seen:
                queue.append(path)
    assert len(seen) < LIMIT, "the crawl did not finish"
    problems += [
        f"{page} -> {path}#{frag}: no such anchor"
        for page, path, frag in wanted
        if seen.get(path) is not None and frag not in (seen[path] or set())
    ]
    return seen, problems


def test_every_link_of_the_demo_resolves(demo_root: Path) -> None:
    from secplan.web.app import create_app

    with TestClient(create_app(demo_root, auth=Auth()), base_url=ORIGIN) as client:
        seen, problems = crawl(client)
    print(f"crawled {len(seen)} URLs")
    assert not problems, problems
    # The crawl reached every kind of page.
    for prefix in ("/plans/", "/issues/", "/epics/", "/board", "/roadmap", "/api"):
        assert any(u.startswith(prefix) for u in seen), prefix
    assert sum(u.startswith("/issues/") for u in seen) >= 16


def test_the_crawler_finds_a_missing_page_and_a_missing_anchor() -> None:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return '<a href="/b#there">b</a> <a href="/gone">x</a> <a href="#top">t</a><h1 id="top">'

    @app.get("/b", response_class=HTMLResponse)
    def b() -> str:
        return '<p id="elsewhere"></p><a href="https://example.org/">out</a>'

    with TestClient(app, base_url=ORIGIN) as client:
        seen, problems = crawl(client)
    assert set(seen) == {"/", "/b", "/gone"}
    assert sorted(problems) == ["/ -> /b#there: no such anchor", "/gone: 404"]
