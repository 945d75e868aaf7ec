"""Helpers for sync tests: a copy of the fixture handbook, the real tracker, a write counter.

The ``tracker`` fixture runs each test on every backend: the embedded tracker (SQLite file and
PostgreSQL) and the GitLab backend against the GitLab stand-in (``tests/gitlab_fake``, a real
HTTP server). A test that only makes sense on the embedded tracker says so with
``@pytest.mark.local_only("why")``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secplan.config import load_config
from secplan.handbook import load_handbook
from secplan.model import Plan
from secplan.store import Store, open_store
from secplan.sync.apply import ApplyResult, apply_plans
from secplan.sync.state import StoreState
from secplan.tracker import open_tracker
from secplan.tracker.base import Tracker
from tests.conftest import FIXTURES
from tests.gitlab_fake import FakeGitLab, start_fake

SYNC_FIXTURES = FIXTURES / "sync"

#: Tracker methods that change something.
WRITE_METHODS = frozenset(
    {
        "create_epic",
        "update_epic",
        "create_milestone",
        "update_milestone",
        "create_issue",
        "update_issue",
        "close_issue",
        "reopen_issue",
        "add_note",
        "promote_issue",
    }
)


class CountingTracker:
    """Delegates every call to the real tracker and records the writing ones. ``state`` is
    sync's bookkeeping in a store of its own (not the tracker's database), as with GitLab."""

    def __init__(self, inner: Tracker, state: StoreState, fake: FakeGitLab | None = None) -> None:
        self.inner = inner
        self.state = state
        #: the GitLab stand-in behind ``inner`` when it is the GitLab backend
        self.fake = fake
        self.writes: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in WRITE_METHODS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.writes.append((name, args, kwargs))
            return attr(*args, **kwargs)

        return call

    def names(self) -> list[str]:
        return [w[0] for w in self.writes]


@pytest.fixture
def handbook_dir(tmp_path: Path) -> Path:
    """A private copy of tests/fixtures/sync/basic."""
    dest = tmp_path / "handbook"
    shutil.copytree(SYNC_FIXTURES / "basic", dest)
    return dest


@pytest.fixture
def sync_store(tmp_path: Path) -> Iterator[Store]:
    """secplan's own store for sync records and the apply lock, apart from the tracker's."""
    store = open_store(tmp_path, f"sqlite:///{tmp_path / 'bookkeeping.db'}")
    try:
        yield store
    finally:
        store.close()


#: The backends every sync test runs on.
TRACKERS = ["local-sqlite", "local-postgres", "gitlab"]
#: Projects of the fixture handbooks (and of the tests' own plans), created in the stand-in.
GITLAB_PROJECTS = ("appsec/planning", "appsec/scanners")
#: Users the fixture plans assign.
GITLAB_USERS = ("rin.sato",)


def start_sync_fake() -> FakeGitLab:
    """A GitLab stand-in (Ultimate: epics as work items) holding the fixture handbook's
    group, projects and users."""
    fake = start_fake("ultimate")
    for project in GITLAB_PROJECTS:
        fake.state.add_project(project)
    for user in GITLAB_USERS:
        fake.state.add_user(user)
    return fake


def gitlab_tracker(fake: FakeGitLab, store: Store, **options: Any) -> Tracker:
    """The GitLab backend on ``fake`` as the fixture handbook's configuration names it, its
    remote ids cached in ``store`` (as ``open_backend`` does), without pacing (``options``
    go to ``GitLabTracker``)."""
    from secplan.store.remote_ids import StoreIdCache
    from secplan.tracker.gitlab import GitLabTracker

    real = GitLabTracker(
        fake.url,
        fake.token,
        default_group="appsec",
        default_project="appsec/planning",
        **{"pace": False, "backoff": 0.01, **options},
    )
    real.ids = StoreIdCache(store, real.identity)
    return real


@pytest.fixture(params=TRACKERS)
def tracker(
    request: pytest.FixtureRequest, handbook_dir: Path, tmp_path: Path, sync_store: Store
) -> Iterator[CountingTracker]:
    """The real tracker of each backend, wrapped in a write counter, with its sync records in
    a separate store: the embedded one (SQLite file, PostgreSQL) and GitLab's (the stand-in)."""
    marker = request.node.get_closest_marker("local_only")
    if request.param == "gitlab":
        if marker is not None:
            pytest.skip(f"embedded tracker only: {marker.args[0]}")
        fake = start_sync_fake()
        real = gitlab_tracker(fake, sync_store)
        try:
            yield CountingTracker(real, StoreState(sync_store, real.identity), fake)
        finally:
            real.close()
            fake.stop()
        return
    if request.param == "local-sqlite":
        url = f"sqlite:///{tmp_path / 'secplan.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    local = open_tracker(handbook_dir, url)
    try:
        yield CountingTracker(local, StoreState(sync_store, local.identity))
    finally:
        local.close()


#: Labels a backend puts on the objects it manages for its own bookkeeping (GitLab's
#: server-side filter), not the plan's.
BACKEND_LABELS = frozenset({"secplan::managed"})


def plan_labels(labels: list[str]) -> list[str]:
    """``labels`` without the backend's own bookkeeping labels, in their order."""
    return [name for name in labels if name not in BACKEND_LABELS]


def load(root: Path) -> list[Plan]:
    """Every plan of the handbook at ``root``, freshly parsed."""
    return list(load_handbook(root, load_config(root)).plans)


def apply(root: Path, tracker: Any, **kwargs: Any) -> ApplyResult:
    """Apply every plan of ``root`` with a fresh write count."""
    tracker.writes.clear()
    return apply_plans(
        tracker, tracker.state, load(root), load_config(root), all_plans=True, **kwargs
    )


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur once) by ``new`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
