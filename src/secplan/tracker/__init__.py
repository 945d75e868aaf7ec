"""Trackers: where Epics, Milestones and Issues live (the embedded local store, or GitLab)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secplan.tracker.local import LocalTracker


def open_tracker(
    root: Path, database_url: str | None = None, author: str | None = None
) -> LocalTracker:
    """The embedded tracker of the handbook at ``root``. Use it as a context manager, or call
    ``close()``.

    The database is ``database_url`` if given, else the handbook's configured ``database_url``,
    else the SQLite file ``<root>/.secplan/secplan.db``.
    """
    from secplan.config import load_config
    from secplan.store.engine import open_store
    from secplan.tracker.local import LocalTracker

    if not database_url:
        database_url = load_config(Path(root)).database_url
    return LocalTracker(open_store(root, database_url), author=author)


__all__ = ["open_tracker"]
