"""The apply lock: one ``secplan apply`` at a time per tracker database.

The lock is a row in the store's ``locks`` table (so it works across machines sharing a
PostgreSQL database), held as ``host:pid``. A lock left by a process that died on this host is
taken over at once (a ``kill -9`` never blocks the next apply); one held by another host is taken
over after :data:`STALE_AFTER`. Trackers without a local store (GitLab) take no lock here: their
identity markers keep a rerun from duplicating anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import Any

LOCK_NAME = "apply:handbook"
STALE_AFTER = timedelta(hours=1)


@contextmanager
def apply_lock(tracker: object, name: str = LOCK_NAME) -> Iterator[str | None]:
    """Hold the apply lock for the block; :class:`~secplan.errors.LockedError` if it is taken."""
    store: Any = getattr(tracker, "store", None)
    if store is None or not hasattr(store, "lock"):
        with nullcontext():
            yield None
        return
    with store.lock(name, stale_after=STALE_AFTER) as holder:
        yield holder
