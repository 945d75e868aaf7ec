"""Handbook assets on the live server: folder plans at ``/plans/name/``, images beside them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "site-handbook"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "handbook"
    shutil.copytree(FIXTURE, copy)
    return copy


@pytest.fixture
def client(root: Path) -> Iterator[TestClient]:
    from secplan.web.app import create_app
    from secplan.web.security import Auth

    with TestClient(
        create_app(root, auth=Auth(), scan_interval=0.0), base_url="http://127.0.0.1"
    ) as c:
        yield c


def test_a_folder_plan_page_ends_with_a_slash(client: TestClient) -> None:
    r = client.get("/plans/edr-rollout", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/plans/edr-rollout/"
    page = client.get("/plans/edr-rollout/")
    assert page.status_code == 200 and "EDR rollout" in page.text
    # A file plan is the other way round.
    r = client.get("/plans/patching/", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/plans/patching"


@pytest.mark.parametrize(
    ("page", "url", "asset"),
    [
        # Middleman folder plan: relative to its own folder.
        ("/plans/edr-rollout/", "images/architecture.png", "edr-rollout/images/architecture.png"),
        ("/plans/edr-rollout/", "runbook.pdf", "edr-rollout/runbook.pdf"),
        # Hugo page and section.
        ("/plans/patching", "patching/timeline.png", "patching/timeline.png"),
        ("/plans/network/_index", "zones.png", "network/zones.png"),
    ],
)
def test_images_and_attachments_resolve_as_on_gitlab(
    client: TestClient, root: Path, page: str, url: str, asset: str
) -> None:
    html = client.get(page).text
    assert f'src="{url}"' in html or f'href="{url}"' in html
    resolved = str(client.base_url.join(page).join(url))
    r = client.get(resolved)
    assert r.status_code == 200, resolved
    assert r.content == (root / asset).read_bytes()
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_links_between_plans_follow_the_layout(client: TestClient) -> None:
    edr = client.get("/plans/edr-rollout/").text
    assert 'href="/plans/edr-rollout/decisions/001"' in edr
    assert 'href="/plans/patching#schedule"' in edr
    decision = client.get("/plans/edr-rollout/decisions/001").text
    assert 'href="/plans/edr-rollout/#summary"' in decision


def test_img_src_self_allows_the_assets(client: TestClient) -> None:
    csp = client.get("/plans/edr-rollout/").headers["content-security-policy"]
    assert "img-src 'self'" in csp


def test_only_safe_files_are_served(client: TestClient, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG private")
    (root / "network" / "link.png").symlink_to(outside)
    (root / "network" / ".hidden.png").write_bytes(b"\x89PNG")
    (root / ".secplan").mkdir(exist_ok=True)
    (root / ".secplan" / "x.png").write_bytes(b"\x89PNG")
    (root / "secplan.toml").write_text('web_users = { a = "scrypt$x" }\n')
    (root / "network" / "page.html").write_text("<script>alert(1)</script>")
    for url in (
        "/plans/network/link.png",
        "/plans/network/.hidden.png",
        "/plans/.secplan/x.png",
        "/plans/secplan.toml",
        "/plans/network/page.html",
        "/plans/network/../../outside.png",
        "/plans/%2e%2e/outside.png",
    ):
        assert client.get(url).status_code == 404, url
    # A plan's source is never served as a file: its URL leads to its page.
    r = client.get("/plans/network/firewall.md", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/plans/network/firewall"


def test_svg_assets_are_sandboxed(client: TestClient, root: Path) -> None:
    (root / "network" / "map.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    r = client.get("/plans/network/map.svg")
    assert r.status_code == 200
    assert "sandbox" in r.headers["content-security-policy"]
