"""Merge request threads on the plan page, with the GitLab backend.

``secplan review comments`` caches each merge request's discussions, mapped to plan sections,
in ``.secplan/mr-threads.json`` (:mod:`secplan.review.cache`); the pages show them beside the
local review threads, read-only (they are answered in GitLab). The file is read again only when
its size or time changed: the watcher thread (or, without it, each page-version check) calls
:meth:`MrThreads.refresh`, and a change bumps the review version the page cache keys on.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from secplan.review.cache import CACHE_FILE, read_cache


class MrThreads:
    """The cached merge request threads of one handbook, re-read when the file changes."""

    def __init__(self, root: Path) -> None:
        self.path = root / CACHE_FILE
        self.root = root
        self._stamp: tuple[int, int] | None = None
        self._read = False
        self._entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Read the cache again if it changed; whether it did."""
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        with self._lock:
            if self._read and stamp == self._stamp:
                return False
            self._read, self._stamp = True, stamp
            self._entries = read_cache(self.root) if stamp is not None else {}
            return True

    def for_plan(self, plan_id: str) -> dict[str | None, list[Any]]:
        """Section anchor -> the plan's merge request threads (``SectionThread``)."""
        from secplan.review.mr import mr_threads_for_plan

        if not self._read:  # a static site build: no watcher, one read
            self.refresh()
        return mr_threads_for_plan(self.root, plan_id, self._entries)

    def open_counts(self, plan_id: str) -> dict[str | None, int]:
        """Section anchor -> unresolved merge request threads (open merge requests only)."""
        from secplan.review.mr import mr_open_counts_for_plan

        if not self._read:
            self.refresh()
        return mr_open_counts_for_plan(self.root, plan_id, self._entries)
