"""The apply lock: one ``secplan apply`` at a time per store.

The lock writes nothing to the database, so a no-op apply stays write-free:

- on SQLite it is an OS file lock beside the database file (the kernel drops it when its
  process dies, so a ``kill -9`` never blocks the next apply, and a second apply is told at once
  instead of queueing behind the first one's writes);
- on PostgreSQL it is a session-level advisory lock on a connection held for the block (it works
  across machines sharing the database, and the server drops it when the connection goes).

The lock guards the store, whatever the tracker is: with GitLab the store still holds the sync
records and remote ids, and two applies at once would race to create the same objects.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from secplan.errors import LockedError
from secplan.store.engine import lock_holder

if TYPE_CHECKING:
    from secplan.store.engine import Store

LOCK_NAME = "apply:handbook"
_HINT = (
    "Wait for it to finish and run apply again. A lock left by a process that died is released "
    "automatically."
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


def _sqlite_file(store: Store) -> Path | None:
    name = store.engine.url.database
    if not name or name == ":memory:":
        return None
    return Path(name.removeprefix("file:"))


def _advisory_key(name: str) -> int:
    """A signed 64-bit key for ``pg_try_advisory_lock``, stable across processes."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _advisory_lock(store: Store, name: str) -> Iterator[None]:
    import sqlalchemy as sa

    key = _advisory_key(name)
    with store.engine.connect() as conn:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not got:
            raise LockedError(
                f"another secplan apply is running on this tracker ({store.url})", hint=_HINT
            )
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


@contextmanager
def apply_lock(store: Store, name: str = LOCK_NAME) -> Iterator[None]:
    """Hold the apply lock for the block; :class:`~secplan.errors.LockedError` if it is taken."""
    if not store.is_sqlite:
        with _advisory_lock(store, name):
            yield
        return
    db_file = _sqlite_file(store)
    if db_file is None:  # an in-memory database belongs to this process alone
        yield
        return
    with file_lock(db_file.with_name(db_file.name + ".apply-lock")):
        yield
