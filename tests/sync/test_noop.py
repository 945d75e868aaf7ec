"""A no-op apply writes nothing: not to the tracker, not to the store (no lock row, no records).

Counted with SQLite's ``PRAGMA data_version`` (it changes when another connection commits) and
the database file's size and modification time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from secplan.store import open_store
from secplan.sync.state import StoreState
from secplan.tracker.local import LocalTracker
from tests.sync.conftest import CountingTracker, apply


def _fingerprint(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@pytest.mark.local_only(
    "counts the commits to the embedded tracker's own database; the GitLab backend's no-op is "
    "checked by request in test_gitlab_sync.py"
)
def test_the_second_apply_already_writes_nothing(handbook_dir: Path, tmp_path: Path) -> None:
    # A second plan shares the Pilot milestone: its record is written by the first apply too.
    shared = (handbook_dir / "scanner-rollout.md").read_text("utf-8")
    (handbook_dir / "scanner-wave-two.md").write_text(
        shared.replace("Secret scanner rollout", "Secret scanner wave two")
        .replace("Enable push protection", "Extend push protection")
        .replace("Write the bypass runbook", "Review the bypasses"),
        "utf-8",
    )
    db = tmp_path / "one.db"
    store = open_store(tmp_path, f"sqlite:///{db}")
    tracker = CountingTracker(LocalTracker(store), StoreState(store, "local"))
    try:
        first = apply(handbook_dir, tracker, create_epic=True)
        assert first.ok
        assert sum(c.kind == "milestone" and c.action == "create" for c in first.done) == 3
        watcher = sqlite3.connect(db)
        before = watcher.execute("PRAGMA data_version").fetchone()[0]
        files = {p: _fingerprint(p) for p in (db, db.with_name(db.name + "-wal")) if p.exists()}
        again = apply(handbook_dir, tracker, create_epic=True)
        assert again.ok and again.writes == 0 and tracker.writes == []
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
        assert {p: _fingerprint(p) for p in files} == files
        watcher.close()
    finally:
        tracker.inner.close()
