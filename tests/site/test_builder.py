"""``secplan.site.builder.build``: the pages, their links and assets, no database, base URLs."""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from secplan.site.builder import build
from secplan.web.demo import prepare_demo
from tests import snapshot
from tests.conftest import EXAMPLE_HANDBOOK

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
_URL = re.compile(r'\s(?:href|src)="([^"#]*)[^"]*"')


def _local_targets(out: Path, page: str) -> list[tuple[str, Path]]:
    """(url, file it names) for every relative link and image of a written page."""
    html = (out / page).read_text(encoding="utf-8")
    found = []
    for url in _URL.findall(html):
        if not url or re.match(r"^[a-z]+:", url):
            continue
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(url)))
        target = out / path
        found.append((url, target / "index.html" if url.endswith("/") else target))
    return found


def test_builds_every_page_of_both_layouts_without_a_database(
    site_handbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    report = build(site_handbook, out)
    assert report.broken == [] and not report.tracker
    for page in (
        "index.html",
        "plans.json",
        "plans/edr-rollout/index.html",  # Middleman folder plan: a folder of its own
        "plans/edr-rollout.json",
        "plans/edr-rollout/decisions/001.html",
        "plans/patching.html",  # Hugo page
        "plans/network/_index.html",  # Hugo section
        "plans/network/firewall.html",
        "404.html",
        "sitemap.xml",
        "search.html",
        "pagefind/shards.json",
        "pagefind/pagefind-ui.js",
        "pagefind/shard-00/pagefind.js",
        "static/style.css",
    ):
        assert (out / page).is_file(), page
    # The assets the plans link, beside the pages, where relative URLs find them.
    for asset in (
        "edr-rollout/images/architecture.png",
        "edr-rollout/runbook.pdf",
        "patching/timeline.png",
        "network/zones.png",
    ):
        assert (out / "plans" / asset).read_bytes() == (site_handbook / asset).read_bytes()
    assert not (site_handbook / ".secplan" / "secplan.db").exists()
    assert not list(out.rglob("*.md")), "no plan source is published"


def test_relative_links_and_images_resolve_as_on_gitlab(site_handbook: Path, tmp_path: Path):
    out = tmp_path / "public"
    build(site_handbook, out)
    pages = [p.relative_to(out).as_posix() for p in out.rglob("*.html")]
    for page in pages:
        if page.startswith("pagefind/") or page == "404.html":  # 404.html: absolute links
            continue
        for url, target in _local_targets(out, page):
            assert target.is_file(), (page, url)
    edr = (out / "plans/edr-rollout/index.html").read_text()
    # Written in the plan as images/architecture.png and decisions/001.md.
    assert 'src="images/architecture.png"' in edr
    assert 'href="decisions/001.html"' in edr
    assert 'href="../patching.html#schedule"' in edr
    section = (out / "plans/network/_index.html").read_text()
    assert 'src="zones.png"' in section and 'href="firewall.html"' in section


def test_pages_are_read_only_and_carry_their_csp(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out)
    for page in out.rglob("*.html"):
        if "pagefind" in page.parts:
            continue
        html = page.read_text(encoding="utf-8")
        assert '<meta http-equiv="Content-Security-Policy"' in html, page
        assert 'method="post"' not in html and "csrf_token" not in html, page
        assert "<script>" not in html, page  # scripts only from files
        assert "frame-ancestors" not in html  # not allowed in a meta policy
    catalog = (out / "index.html").read_text()
    assert 'href="/' not in catalog, "links are relative"
    assert 'action="search.html"' in catalog


def test_base_url_prefixes_every_link(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out, base_url="https://sec.gitlab.io/plans/")
    edr = (out / "plans/edr-rollout/index.html").read_text()
    assert 'href="https://sec.gitlab.io/plans/static/style.css"' in edr
    assert 'href="https://sec.gitlab.io/plans/plans/patching.html#schedule"' in edr
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://sec.gitlab.io/plans/plans/edr-rollout/</loc>" in sitemap
    # The 404 page is served at any depth, so its links are absolute.
    assert 'href="https://sec.gitlab.io/plans/"' in (out / "404.html").read_text()


def test_json_twins_match_the_server(site_handbook: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from secplan.tracker import open_tracker
    from secplan.web.app import create_app
    from secplan.web.security import Auth

    open_tracker(site_handbook).close()  # an empty tracker database (serving creates none)
    out = tmp_path / "public"
    with TestClient(create_app(site_handbook, auth=Auth()), base_url="http://127.0.0.1") as client:
        served = client.get("/plans/patching.json").json()
    assert build(site_handbook, out).tracker
    site = json.loads((out / "plans/patching.json").read_text())
    # Same view; only the links in the rendered body differ (files vs. server paths).
    assert {k: v for k, v in site.items() if k != "html"} == {
        k: v for k, v in served.items() if k != "html"
    }
    assert 'href="network/_index.html"' in site["html"]
    assert 'href="/plans/network/_index"' in served["html"]


def test_unsafe_files_are_never_copied(site_handbook: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG secret")
    (site_handbook / "network" / "leak.png").symlink_to(outside)
    (site_handbook / "network" / ".hidden.png").write_bytes(b"\x89PNG")
    (site_handbook / "network" / "bad.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    )
    plan = site_handbook / "network" / "firewall.md"
    plan.write_text(
        plan.read_text()
        + "\n![a](leak.png) ![b](.hidden.png) ![c](bad.svg) [d](../secplan.toml)\n"
        + "[e](../.secplan/cache/plans.sqlite3)\n"
    )
    (site_handbook / "secplan.toml").write_text('web_users = { a = "scrypt$x" }\n')
    out = tmp_path / "public"
    report = build(site_handbook, out)
    copied = {p.name for p in out.rglob("*") if p.is_file()}
    assert not copied & {"leak.png", ".hidden.png", "bad.svg", "secplan.toml", "plans.sqlite3"}
    assert any("bad.svg" in w for w in report.warnings)
    # The links stay, and the link check says they lead nowhere.
    assert {b.line for b in report.broken if b.source == "network/firewall.md"}


def test_tracker_pages_from_the_demo_database(tmp_path: Path) -> None:
    root = prepare_demo(tmp_path / "demo")
    db = root / ".secplan" / "secplan.db"
    before = db.stat().st_mtime_ns
    out = tmp_path / "public"
    report = build(root, out)
    assert report.tracker and report.broken == []
    epics = json.loads((out / "epics.json").read_text())["epics"]
    assert epics
    for epic in epics:
        assert (out / "epics" / f"{epic['ref']}.html").is_file()
    board = (out / "board.html").read_text()
    assert "Open" in board and "<form" not in board
    charts = list((out / "progress").rglob("*.svg"))
    assert charts and all("<script" not in c.read_text() for c in charts)
    ci = (out / "plans/ci-runner-secrets-rotation.html").read_text()
    assert "burnup" in ci and 'class="thread' in ci  # review threads shown, read-only
    assert 'name="body"' not in ci
    # Threads sit below their own section, with no forms; item refs link the site's issue
    # pages, and the link check passed.
    body = ci.split('<div class="plan-body">', 1)[1].split("</article>", 1)[0]
    assert '<section class="section-review"' in body and 'class="thread' in body
    threads = json.loads((out / "plans/ci-runner-secrets-rotation.json").read_text())["threads"]
    for t in threads:
        heading = body.index(f'id="{t["section"]}"')
        assert heading < body.index(f'id="thread-{t["id"]}"')  # below its section heading
    assert "<form" not in ci
    assert 'class="work-item"' in body
    linked = re.findall(r'class="item-issue"[^>]*>.*?href="\.\./(issues/[^"]+\.html)"', body)
    assert linked and all((out / page).is_file() for page in linked)
    assert db.stat().st_mtime_ns == before


def test_a_plan_page_snapshot(site_handbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build(site_handbook, out)
    for page in ("plans/edr-rollout/index.html", "sitemap.xml"):
        name = page.replace("/", "-")
        snapshot.assert_snapshot(SNAPSHOTS, name, (out / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("bad", ["", "inside"])
def test_the_output_may_not_hold_the_handbook(tmp_path: Path, bad: str) -> None:
    from secplan.errors import UsageError

    root = tmp_path / "hb"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    with pytest.raises(UsageError):
        build(root, root if bad == "" else tmp_path)


def test_files_with_the_same_bytes_render_from_their_own_folders(
    site_handbook: Path, tmp_path: Path
) -> None:
    (site_handbook / "copies").mkdir()
    shutil.copyfile(site_handbook / "patching.md", site_handbook / "copies" / "patching.md")
    out = tmp_path / "public"
    build(site_handbook, out, search=False)
    original = (out / "plans/patching.html").read_text(encoding="utf-8")
    copy = (out / "plans/copies/patching.html").read_text(encoding="utf-8")
    # The same text, but its link to network/_index.md names no plan from copies/.
    assert 'href="network/_index.html"' in original
    assert 'href="network/_index.html"' not in copy
    assert 'href="network/_index.md"' in copy


def _files(out: Path) -> dict[str, bytes]:
    # The burn-up charts end at today's time: compared by name only.
    return {
        p.relative_to(out).as_posix(): b"" if p.suffix == ".svg" else p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and p.name != ".secplan-manifest.json"
    }


@pytest.mark.parametrize("demo", [False, True], ids=["handbook", "tracker"])
def test_worker_processes_write_the_same_site(
    site_handbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo: bool
) -> None:
    root = prepare_demo(tmp_path / "demo") if demo else site_handbook
    monkeypatch.setenv("SECPLAN_JOBS", "1")
    serial = build(root, tmp_path / "serial", search=False)
    monkeypatch.setenv("SECPLAN_JOBS", "2")
    parallel = build(root, tmp_path / "parallel", search=False)
    assert _files(tmp_path / "parallel") == _files(tmp_path / "serial")
    assert parallel.written == serial.written and parallel.broken == serial.broken
    assert parallel.plans_rebuilt == serial.plans_rebuilt == serial.plans_total
