"""The backends the tracker contract runs on: each yields a tracker and a world to use in it.

A world names one group and one project inside it that exist (the embedded tracker creates them
on first use; a GitLab stand-in is set up with them). Tests use only the ``Tracker`` protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from secplan.tracker.base import Tracker


@dataclass(frozen=True)
class World:
    """Paths that exist in the tracker under test."""

    group: str = "sec"
    project: str = "sec/plans"
    other_project: str = "sec/infra"


BACKENDS = ["local-sqlite", "local-postgres", "gitlab-ultimate", "gitlab-premium", "gitlab-free"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Tracker, World]]:
    """A fresh tracker of each backend, with the world it holds."""
    from secplan.store import open_store
    from secplan.tracker.local import LocalTracker

    if request.param.startswith("gitlab-"):
        yield from _gitlab(request.param.removeprefix("gitlab-"), tmp_path)
        return
    if request.param == "local-sqlite":
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    tracker = LocalTracker(open_store(tmp_path, url), author="alice")
    try:
        yield tracker, World()
    finally:
        tracker.close()


def _gitlab(tier: str, tmp_path: Path) -> Iterator[tuple[Tracker, World]]:
    """The GitLab backend against the stand-in of that tier, its ids cached in a real store."""
    from secplan.store import open_store
    from secplan.store.remote_ids import StoreIdCache
    from secplan.tracker.gitlab import GitLabTracker
    from tests.gitlab_fake import start_fake

    fake = start_fake(tier)
    world = World(group="sec", project="sec/planning", other_project="sec/infra")
    fake.state.add_project(world.other_project)
    store = open_store(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    tracker = GitLabTracker(
        fake.url, fake.token, default_group=world.group, default_project=world.project, pace=False
    )
    tracker.ids = StoreIdCache(store, tracker.identity)
    try:
        yield tracker, world
    finally:
        tracker.close()
        store.close()
        fake.stop()
