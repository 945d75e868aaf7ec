"""Exact snapshot comparison for output formats.

Snapshots live in a ``snapshots/`` folder beside the test module. After an intended change,
regenerate them with ``SECPLAN_UPDATE_SNAPSHOTS=1 pytest ...`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

UPDATE = os.environ.get("SECPLAN_UPDATE_SNAPSHOTS") == "1"


def assert_snapshot(folder: Path, name: str, actual: str) -> None:
    """Compare ``actual`` with ``folder/name`` exactly (or rewrite the file when updating)."""
    path = folder / name
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"missing snapshot {name}; run with SECPLAN_UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the snapshot"
