"""Counting API calls (``apply --stats``) and pacing writes below GitLab.com's limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from secplan.tracker.base import CallStats

#: What a run cost (``apply --stats``): the protocol's call counters.
ApiStats = CallStats


#: Minimum seconds between two writes of a kind. GitLab.com allows about 200 issue (and epic)
#: creations and 60 notes per minute per user; we stay a little below both.
PACE_INTERVALS: dict[str, float] = {"create": 60 / 180, "note": 60 / 55}


class Pacer:
    """Spaces writes of a kind at least ``PACE_INTERVALS[kind]`` apart."""

    def __init__(
        self,
        stats: ApiStats,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stats = stats
        self.enabled = enabled
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, kind: str | None) -> None:
        """Block until a write of ``kind`` may go out (no-op for unpaced kinds)."""
        interval = PACE_INTERVALS.get(kind or "")
        if not self.enabled or interval is None:
            return
        with self._lock:
            now = self._clock()
            due = self._last.get(kind or "", -interval) + interval
            if due > now:
                self.stats.waits += 1
                self.stats.waited_seconds += due - now
                self._sleep(due - now)
                now = due
            self._last[kind or ""] = now
