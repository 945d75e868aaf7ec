"""Trackers: where Epics, Milestones and Issues live (the embedded local tracker, or GitLab).

:func:`open_backend` is what commands use: the tracker the configuration names, and secplan's
own store beside it (sync records, the apply lock, review threads, remote ids), which is a
separate database whatever the tracker is — for the local tracker the two share one file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secplan.errors import NoDatabaseError, UsageError

if TYPE_CHECKING:
    from secplan.config import Config
    from secplan.store.engine import Store
    from secplan.sync.state import StoreState
    from secplan.tracker.base import Tracker


def backend_name(config: Config) -> str:
    """``SECPLAN_BACKEND`` if set, else the configured ``backend`` (``local`` by default)."""
    from secplan.config import BACKENDS

    name = os.environ.get("SECPLAN_BACKEND") or config.backend
    if name not in BACKENDS:
        raise UsageError(
            f"unknown tracker backend {name!r}", hint=f"Use one of: {', '.join(BACKENDS)}."
        )
    return name


@dataclass
class Backend:
    """The tracker of a handbook and secplan's store beside it; close it after use."""

    tracker: Tracker
    store: Store
    #: set when a read-only command found no database: the store is an empty in-memory one and
    #: this says where the real one would be
    missing: NoDatabaseError | None = None

    def state(self) -> StoreState:
        """Sync's records for this tracker."""
        from secplan.sync.state import StoreState

        return StoreState(self.store, self.tracker.identity)

    def close(self) -> None:
        """Close the tracker and the store."""
        try:
            self.tracker.close()
        finally:
            self.store.close()

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _config(config_or_root: Config | Path) -> Config:
    from secplan.config import Config, load_config

    if isinstance(config_or_root, Config):
        return config_or_root
    return load_config(Path(config_or_root))


def open_store_for(
    config: Config, database_url: str | None = None, *, read_only: bool = False
) -> tuple[Store, NoDatabaseError | None]:
    """secplan's store for the handbook: ``database_url``, else the configured one, else the
    SQLite file under ``.secplan/``. ``read_only``: nothing is created; without a database the
    store is an empty in-memory one and the error says where the real one would be."""
    from secplan.store.engine import open_memory_store, open_store

    url = database_url or config.database_url
    try:
        return open_store(config.root, url, create=not read_only), None
    except NoDatabaseError as missing:
        if not read_only:  # pragma: no cover - open_store creates when not read-only
            raise
        return open_memory_store(), missing


def open_backend(
    config_or_root: Config | Path,
    *,
    database_url: str | None = None,
    read_only: bool = False,
    author: str | None = None,
) -> Backend:
    """The configured tracker and the store (see :func:`open_store_for` for ``read_only``)."""
    config = _config(config_or_root)
    name = backend_name(config)
    store, missing = open_store_for(config, database_url, read_only=read_only)
    try:
        tracker = _open_tracker(name, config, store, author)
    except BaseException:
        store.close()
        raise
    return Backend(tracker, store, missing)


def _open_tracker(name: str, config: Config, store: Store, author: str | None) -> Tracker:
    if name == "gitlab":
        from secplan.store.remote_ids import StoreIdCache
        from secplan.tracker.gitlab import open_gitlab_tracker

        gitlab = open_gitlab_tracker(config)
        # Remote ids (paths, users, epic ids) are kept in secplan's store, per instance.
        gitlab.ids = StoreIdCache(store, gitlab.identity)
        return gitlab
    from secplan.tracker.local import LocalTracker

    return LocalTracker(store, author=author)


def open_tracker(
    config_or_root: Config | Path,
    database_url: str | None = None,
    author: str | None = None,
    *,
    read_only: bool = False,
) -> Tracker:
    """The configured tracker alone (the embedded tracker closes its store with it; for other
    backends use :func:`open_backend`, which closes both)."""
    return open_backend(
        config_or_root, database_url=database_url, read_only=read_only, author=author
    ).tracker


__all__ = ["Backend", "backend_name", "open_backend", "open_store_for", "open_tracker"]
