"""The apply lock: one ``secplan apply`` at a time per tracker database.

The lock is a row in the store's ``locks`` table (so it works across machines sharing a
PostgreSQL database), held as ``host:pid``. A lock left by a process that died on this host is
taken over at once (a ``kill -9`` never blocks the next apply); one held by another host is taken
over after :data:`STALE_AFTER`.

On SQLite an OS file lock beside the database is taken first: SQLite serialises writers, so a
second apply would otherwise sit in the busy handler behind the first one's writes instead of
being told at once; the kernel drops the file lock when its process dies.

Trackers without a local store (GitLab) take no lock here: their identity markers keep a rerun
from duplicating anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from secplan.errors import LockedError
from secplan.store.engine import lock_holder

LOCK_NAME = "apply:handbook"
STALE_AFTER = timedelta(hours=1)
_HINT = (
    "Wait for it to finish and run apply again. A lock left by a process that died on this "
    "machine is taken over automatically."
)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking OS lock on ``path`` for the block."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise LockedError(
                f"another secplan apply is running on this tracker (held by {other})",
                hint=_HINT,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, lock_holder().encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _sqlite_file(store: Any) -> Path | None:
    if not getattr(store, "is_sqlite", False):
        return None
    database = getattr(getattr(store, "engine", None), "url", None)
    name = getattr(database, "database", None)
    if not name or name == ":memory:":
        return None
    return Path(name)


@contextmanager
def apply_lock(tracker: object, name: str = LOCK_NAME) -> Iterator[str | None]:
    """Hold the apply lock for the block; :class:`~secplan.errors.LockedError` if it is taken."""
    store: Any = getattr(tracker, "store", None)
    if store is None or not hasattr(store, "lock"):
        yield None
        return
    with ExitStack() as stack:
        db_file = _sqlite_file(store)
        if db_file is not None:
            stack.enter_context(file_lock(db_file.with_name(db_file.name + ".apply-lock")))
        try:
            holder = stack.enter_context(store.lock(name, stale_after=STALE_AFTER))
        except LockedError as exc:
            raise LockedError(
                f"another secplan apply is running on this tracker ({exc.message})", hint=_HINT
            ) from None
        yield holder
