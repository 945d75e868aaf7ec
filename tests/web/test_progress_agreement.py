"""One definition of progress: ``secplan status``, the catalog and the plan page agree.

On the demo-filled example handbook (issues closed, items ticked in the plans), and on the
example with no tracker at all, where only ticked items count.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.web.demo import prepare_demo
from secplan.web.security import Auth
from tests.conftest import EXAMPLE_HANDBOOK, run_cli


def _web_progress(root: Path) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    from secplan.web.app import create_app

    app = create_app(root, auth=Auth(), scan_interval=0.0)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        catalog = {p["id"]: p["progress"] for p in client.get("/plans.json").json()["plans"]}
        pages = {pid: client.get(f"/plans/{pid}.json").json()["progress"] for pid in catalog}
    return catalog, pages


def _ticked_items(root: Path) -> int:
    return sum(p.read_text("utf-8").count("- [x]") for p in root.rglob("*.md"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_demo(tmp_path_factory.mktemp("agree"))


def test_status_catalog_and_plan_page_agree_on_the_demo(demo: Path) -> None:
    status = run_cli("status", "--format", "json", "--root", str(demo))
    assert status.returncode == 0, status.stderr
    by_status = {ps["plan"]: ps["progress"] for ps in json.loads(status.stdout)}
    catalog, pages = _web_progress(demo)
    assert by_status == catalog == pages
    assert any(p["closed"] for p in by_status.values())  # the demo closed some issues
    assert sum(p["total"] for p in by_status.values()) > 0


def test_without_a_tracker_ticked_items_are_the_progress(tmp_path: Path) -> None:
    root = shutil.copytree(EXAMPLE_HANDBOOK, tmp_path / "handbook")
    catalog, pages = _web_progress(root)
    assert catalog == pages
    assert sum(p["closed"] for p in catalog.values()) == _ticked_items(root) > 0
    assert not (root / ".secplan" / "secplan.db").exists()  # serving created no database
