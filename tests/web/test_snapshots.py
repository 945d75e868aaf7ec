"""Snapshots of the JSON API on the example handbook, compared exactly.

``/plans.json`` and every ``/plans/{id}.json`` are what scripts consume, so any change to them
should be a decision, not an accident. Two states are kept: the example handbook with an empty
tracker, and the demo (tracker filled: epics, issues, closed work, review threads). Times and the
handbook's location are the only volatile parts; they are replaced by placeholders.

Regenerate after an intended change with ``SECPLAN_UPDATE_SNAPSHOTS=1 pytest tests/web``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secplan.web.demo import prepare_demo
from secplan.web.security import Auth
from tests import snapshot
from tests.conftest import EXAMPLE_HANDBOOK

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"

# ISO 8601 date-times as the API writes them (comment, thread and issue times).
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def normalise(data: object, root: Path) -> str:
    """The JSON as indented text, with times and the handbook location made stable."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    text = text.replace(str(root.resolve()), "<root>").replace(str(root), "<root>")
    return _DATETIME.sub("<time>", text)


def assert_snapshot(name: str, actual: str) -> None:
    snapshot.assert_snapshot(SNAPSHOTS, name, actual)


def _client(root: Path) -> TestClient:
    from secplan.web.app import create_app

    return TestClient(create_app(root, auth=Auth(), scan_interval=0.0), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def example_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example") / "handbook"
    shutil.copytree(EXAMPLE_HANDBOOK, root, ignore=shutil.ignore_patterns(".secplan"))
    return root


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(autouse=True)
def _own_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The handbook's own SQLite tracker, whatever the developer's environment names.
    monkeypatch.delenv("SECPLAN_DATABASE_URL", raising=False)
    yield


EXAMPLE_PLANS = sorted(
    p.parent.name if p.name == "index.md" else p.stem
    for p in EXAMPLE_HANDBOOK.rglob("*.md")
    if p.name != "index.md" or p.parent != EXAMPLE_HANDBOOK
)


def test_the_example_plans_are_the_snapshotted_ones() -> None:
    # A plan added to the example needs its snapshots: this list is what the tests below cover.
    assert EXAMPLE_PLANS == [
        "admin-mfa",
        "bastion-host-hardening",
        "ci-runner-secrets-rotation",
        "vulnerability-sla-dashboard",
    ]


@pytest.mark.parametrize("state", ["example", "demo"])
def test_plans_json_snapshot(state: str, request: pytest.FixtureRequest) -> None:
    root: Path = request.getfixturevalue(f"{state}_root")
    with _client(root) as client:
        response = client.get("/plans.json")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["plans"]] == EXAMPLE_PLANS
    assert_snapshot(f"{state}-plans.json", normalise(response.json(), root))


@pytest.mark.parametrize("state", ["example", "demo"])
@pytest.mark.parametrize("plan_id", EXAMPLE_PLANS)
def test_plan_json_snapshot(state: str, plan_id: str, request: pytest.FixtureRequest) -> None:
    root: Path = request.getfixturevalue(f"{state}_root")
    with _client(root) as client:
        response = client.get(f"/plans/{plan_id}.json")
    assert response.status_code == 200
    assert response.json()["id"] == plan_id
    assert_snapshot(f"{state}-plan-{plan_id}.json", normalise(response.json(), root))


def test_normalise_replaces_only_times_and_the_root(tmp_path: Path) -> None:
    data = {
        "at": "2026-11-28T08:59:01.123456+00:00",
        "day": "2027-01-22",
        "path": f"{tmp_path}/x.md",
        "title": "Rotate every 30 days",
    }
    assert json.loads(normalise(data, tmp_path)) == {
        "at": "<time>",
        "day": "2027-01-22",
        "path": "<root>/x.md",
        "title": "Rotate every 30 days",
    }


#: The tracker pages' JSON twins on the demo (and the roadmap without a tracker).
TRACKER_DOCUMENTS = {
    "demo-board.json": "/board.json",
    "demo-epics.json": "/epics.json",
    "demo-issue-5.json": "/issues/security/planning/5.json",
    "demo-roadmap.json": "/roadmap.json",
    "demo-roadmap-ci-runner-secrets-rotation.json": "/roadmap.json?plan=ci-runner-secrets-rotation",
    "example-roadmap.json": "/roadmap.json",
}


@pytest.mark.parametrize("name", sorted(TRACKER_DOCUMENTS))
def test_tracker_json_snapshot(name: str, request: pytest.FixtureRequest) -> None:
    state = name.split("-", 1)[0]
    root: Path = request.getfixturevalue(f"{state}_root")
    with _client(root) as client:
        response = client.get(TRACKER_DOCUMENTS[name])
    assert response.status_code == 200
    assert_snapshot(name, normalise(response.json(), root))
