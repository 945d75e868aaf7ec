"""Helpers for sync tests: a copy of the fixture handbook, the real tracker, a write counter."""

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
from secplan.tracker.local import LocalTracker
from tests.conftest import FIXTURES

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

    def __init__(self, inner: LocalTracker, state: StoreState) -> None:
        self.inner = inner
        self.state = state
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


@pytest.fixture
def tracker(handbook_dir: Path, database_url: str, sync_store: Store) -> Iterator[CountingTracker]:
    """The real local tracker (SQLite file and PostgreSQL), wrapped in a write counter, with
    its sync records in a separate store."""
    real = open_tracker(handbook_dir, database_url)
    try:
        yield CountingTracker(real, StoreState(sync_store, real.identity))
    finally:
        real.close()


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
