"""The demo a newcomer runs: example handbook copied, tracker filled, everything visible."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from secplan.web.demo import DEMO_DIR, READY_MARK, prepare_demo
from secplan.web.security import Auth
from tests.conftest import EXAMPLE_HANDBOOK
from tests.web.conftest import LiveServer, shot


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_demo(tmp_path_factory.mktemp("demo"))


def test_demo_fills_catalog_epics_issues_progress_and_threads(demo_root: Path) -> None:
    from secplan.web.app import create_app

    assert demo_root.name == "handbook" and demo_root.parent.name == DEMO_DIR
    with TestClient(create_app(demo_root, auth=Auth()), base_url="http://127.0.0.1") as c:
        plans = {p["id"]: p for p in c.get("/plans.json").json()["plans"]}
        assert len(plans) >= 3
        with_issues = [p for p in plans.values() if p["progress"]["total"]]
        assert len(with_issues) >= 2
        assert any(p["progress"]["closed"] for p in with_issues)
        epics = {p["epic"] for p in plans.values() if p["epic"]}
        for ref in epics:
            epic = c.get(f"/epics/{ref}.json").json()
            assert epic["total"] > 0, ref
        board = c.get("/board.json").json()
        # Open, the demo's workflow columns (open work it started), closed.
        titles = [col["title"] for col in board["columns"]]
        assert titles == ["Open", "doing", "review", "Closed"]
        assert all(col["issues"] for col in board["columns"])
        # Cards name the plan whose work they are (source issues promoted to epics do not).
        cards = {c["ref"]: c["plan"] for col in board["columns"] for c in col["issues"]}
        assert cards["security/planning#5"] == "ci-runner-secrets-rotation"
        assert cards["security/planning#1"] is None
        assert (
            'class="plan-ref" href="/plans/admin-mfa/">Phishing-resistant MFA for administrators<'
            in c.get("/board").text
        )
        threads = [t for pid in plans for t in c.get(f"/plans/{pid}.json").json()["threads"]]
        assert any(not t["resolved"] for t in threads) and any(t["resolved"] for t in threads)
        assert any(t["outdated"] for t in threads)  # its section was since removed
        ready = next(p for p in plans.values() if p["status"] == "ready")
        svg = c.get(f"/plans/{ready['id']}/progress").text
        assert "<svg" in svg


def test_demo_cards_and_epic_pages_show_the_assignees_sync_pushed(demo_root: Path) -> None:
    """`@user` on a work item becomes the issue's assignee, shown on its card and its epic."""
    from secplan.web.app import create_app

    with TestClient(create_app(demo_root, auth=Auth()), base_url="http://127.0.0.1") as c:
        cards = [card for col in c.get("/board.json").json()["columns"] for card in col["issues"]]
        inventory = next(i for i in cards if i["title"].startswith("Inventory every credential"))
        assert inventory["assignees"] == ["amara.okafor"]
        assert '<span class="assignee">@amara.okafor</span>' in c.get("/board").text
        assert inventory["epic"], "the demo's applied plans put their issues under epics"
        epic = c.get(f"/epics/{inventory['epic']}.json").json()
        listed = {i["ref"]: i for m in epic["milestones"] for i in m["issues"]}
        assert listed[inventory["ref"]]["assignees"] == ["amara.okafor"]
        page = c.get(f"/epics/{inventory['epic']}").text
        assert '<span class="assignee">@amara.okafor</span>' in page


def test_demo_issues_only_join_epics_of_their_group(demo_root: Path) -> None:
    """As in GitLab: an issue's project is in its epic's group (or a subgroup of it)."""
    from secplan.refs import parse_epic_ref
    from secplan.tracker import open_tracker

    with open_tracker(demo_root) as tracker:
        in_epics = [i for i in tracker.list_issues(state="all") if i.epic]
        epic_titles = {e.ref: e.title for e in tracker.list_epics()}
    assert len(in_epics) >= 5
    for issue in in_epics:
        epic = parse_epic_ref(issue.epic or "")
        assert epic is not None and issue.epic in epic_titles
        project = issue.ref.rsplit("#", 1)[0]
        assert project == epic.path or project.startswith(epic.path + "/"), issue.ref


def test_demo_is_reused_then_reset(demo_root: Path) -> None:
    base = demo_root.parent.parent
    marker = demo_root / "marker.txt"
    marker.write_text("kept", encoding="utf-8")
    assert prepare_demo(base) == demo_root and marker.exists()  # second run: no rebuild
    prepare_demo(base, reset=True)
    assert not marker.exists() and (demo_root.parent / READY_MARK).exists()


@pytest.mark.browser
def test_demo_pages_in_the_browser(demo_root: Path, page) -> None:
    server = LiveServer(demo_root)
    try:
        page.goto(server.url + "/")
        assert page.locator("table.catalog progress").count() >= 3
        shot(page, "demo-catalog")
        page.click("text=Secrets rotation for CI runners")
        page.wait_for_load_state("load")
        assert page.locator("img.burnup").evaluate("img => img.naturalWidth") > 0
        shot(page, "demo-plan")
        page.goto(server.url + "/epics/security&1")
        assert page.locator("section.milestone-group").count() >= 2
        shot(page, "demo-epic")
        page.goto(server.url + "/board")
        assert page.locator(".column-closed .card").count() >= 1
        shot(page, "demo-board")
    finally:
        server.stop()


def test_serve_demo_command_serves_the_filled_example(tmp_path: Path) -> None:
    """What `make demo` runs: `secplan serve --demo` from a fresh directory."""
    server = LiveServer(None, args=("--demo",), cwd=tmp_path, timeout=120)
    try:
        plans = httpx.get(server.url + "/plans.json", timeout=30).json()["plans"]
        assert any(p["progress"]["closed"] for p in plans)
        assert (tmp_path / DEMO_DIR / READY_MARK).exists()
        assert "Serving" in server.log.read_text()
    finally:
        server.stop()


def test_a_plan_naming_an_epic_without_a_source_gets_that_epic_under_its_title(
    tmp_path: Path,
) -> None:
    from secplan.tracker import open_tracker
    from secplan.web.demo import FILLER_EPIC, fill_tracker

    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    (root / "log-retention.md").write_text(
        "---\ntitle: Audit log retention\nstatus: ready\nepic: security&5\n---\n\n"
        "# Audit log retention\n\n## Work\n\n- [ ] Keep audit logs for a year\n",
        encoding="utf-8",
    )
    fill_tracker(root)
    with open_tracker(root) as tracker:
        titles = {e.iid: e.title for e in tracker.list_epics("security")}
    # The example's two epics come from their source issues; 3 and 4 only fill the numbering.
    assert titles == {
        1: "Secrets rotation for CI runners",
        2: "Phishing-resistant MFA for administrators",
        3: f"{FILLER_EPIC} 3",
        4: f"{FILLER_EPIC} 4",
        5: "Audit log retention",
    }


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    from tests.conftest import run_cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--demo", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"Error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr
    assert "Serving" not in result.stderr
