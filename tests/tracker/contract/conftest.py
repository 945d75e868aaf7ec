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


BACKENDS = ["local-sqlite", "local-postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Tracker, World]]:
    """A fresh tracker of each backend, with the world it holds."""
    from secplan.store import open_store
    from secplan.tracker.local import LocalTracker

    if request.param == "local-sqlite":
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    tracker = LocalTracker(open_store(tmp_path, url), author="alice")
    try:
        yield tracker, World()
    finally:
        tracker.close()
