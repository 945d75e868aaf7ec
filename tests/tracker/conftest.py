"""A fresh embedded tracker per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from secplan.tracker import open_tracker
from secplan.tracker.local import LocalTracker


@pytest.fixture
def tracker(database_url: str, tmp_path: Path) -> Iterator[LocalTracker]:
    """An empty tracker on the parametrised backend, with a fixed author."""
    with open_tracker(tmp_path, database_url, author="alice") as t:
        yield t
