"""The static site of the demo: issue pages, the epics index and the roadmap, read-only, with
their JSON twins, every tracker ref linked, and the link check clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from secplan.site.builder import build
from secplan.web.demo import prepare_demo


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = prepare_demo(tmp_path_factory.mktemp("demo"))
    out = tmp_path_factory.mktemp("site") / "public"
    report = build(root, out, search=False)
    assert report.tracker and report.broken == [], report.broken
    return root, out


def test_issue_epics_and_roadmap_pages_are_written_with_twins(demo_site: tuple[Path, Path]):
    _, out = demo_site
    for page in (
        "issues/security/planning/5.html",
        "issues/security/planning/5.json",
        "epics/index.html",
        "epics.json",
        "roadmap.html",
        "roadmap.json",
    ):
        assert (out / page).is_file(), page
    issue = json.loads((out / "issues/security/planning/5.json").read_text(encoding="utf-8"))
    assert issue["plan_item"]["plan"] == "ci-runner-secrets-rotation"
    html = (out / "issues/security/planning/5.html").read_text(encoding="utf-8")
    assert 'href="../../../plans/ci-runner-secrets-rotation.html#discovery"' in html
    assert 'href="../../../epics/security%261.html"' in html
    assert 'href="../../../roadmap.html#ms-discovery"' in html
    assert "<form" not in html  # read-only
    roadmap = (out / "roadmap.html").read_text(encoding="utf-8")
    assert 'id="ms-discovery"' in roadmap and 'id="plan-ci-runner-secrets-rotation"' in roadmap
    assert "<form" not in roadmap and "style=" not in roadmap


def test_site_pages_link_every_ref_the_tracker_has(demo_site: tuple[Path, Path]):
    _, out = demo_site
    plan = (out / "plans/ci-runner-secrets-rotation.html").read_text(encoding="utf-8")
    assert '<a class="ref" href="../issues/security/planning/5.html">' in plan
    board = (out / "board.html").read_text(encoding="utf-8")
    refs = re.findall(r'<a class="ref" href="(issues/[^"]+)"', board)
    assert len(refs) >= 10 and all((out / r).is_file() for r in refs)
    assert '<code class="ref">' not in board
    index = (out / "epics/index.html").read_text(encoding="utf-8")
    assert 'href="security%261.html"' in index and "<progress" in index


def test_rebuild_keeps_the_tracker_pages(demo_site: tuple[Path, Path]):
    root, out = demo_site
    again = build(root, out, search=False)
    assert again.broken == []
    assert not [w for w in again.written if w.startswith(("issues/", "epics/"))]
