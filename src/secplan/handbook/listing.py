"""Discovery that reuses the last file list while no directory of the handbook has changed.

Adding, removing or renaming an entry changes its directory's modification time, so the plan
files found by :func:`secplan.handbook.files.discover` follow from the listed directories'
times alone — unless a symbolic link was met (what it points to can change without any
listing changing) or a directory could not be listed; such walks are never reused. A listing
is trusted under the parse cache's racy-clean rule: only for directories that had not changed
for :data:`~secplan.handbook.cache.RACY_NS` when the walk began.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from secplan.handbook.cache import RACY_NS, now_ns
from secplan.handbook.files import CATALOG_NAMES, FileError, Walk, discover, rel_path_of

_VERSION = 1


def _times(path: Path | str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_ctime_ns


def dirs_hold(root: Path, data: dict[str, Any]) -> bool:
    """Whether the directories of a listing (its ``version``, ``checked_ns`` and ``dirs``)
    are as they were, none of them changed too close to the walk to tell (raises OSError,
    ValueError, TypeError or KeyError on a damaged listing)."""
    if data.get("version") != _VERSION:
        return False
    checked = int(data["checked_ns"])
    base = f"{root}{os.sep}"
    for rel, mtime, ctime in data["dirs"]:
        if (mtime, ctime) != _times(base + rel if rel else root):
            return False
        if checked - max(mtime, ctime) < RACY_NS:
            return False  # changed too close to the walk: list it again
    return True


def _reuse(root: Path, stored: str) -> list[Path] | None:
    try:
        data = json.loads(stored)
        if not dirs_hold(root, data):
            return None
        return [root.joinpath(rel) for rel in data["files"]]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def discover_listed(
    root: Path, stored: str | None
) -> tuple[list[Path], list[FileError], Path | None, str | None]:
    """``discover(root)``, reusing the ``stored`` listing while it holds.

    Returns files, refusals, the catalog page and the listing that describes them: ``stored``
    when it was reused, a new one to store, or None when this walk cannot be reused.
    """
    if stored:
        files = _reuse(root, stored)
        if files is not None:
            catalog = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
            return files, [], catalog, stored
    walk = Walk([])
    checked = now_ns()
    files, errors, catalog = discover(root, walk=walk)
    listing = None
    if walk.exact and not errors:
        try:
            dirs = [[rel_path_of(root, d) if d != root else "", *_times(d)] for d in walk.dirs]
        except OSError:
            return files, errors, catalog, None
        listing = json.dumps(
            {
                "version": _VERSION,
                "checked_ns": checked,
                "dirs": dirs,
                "files": [rel_path_of(root, f) for f in files],
            },
            ensure_ascii=False,
        )
    return files, errors, catalog, listing
