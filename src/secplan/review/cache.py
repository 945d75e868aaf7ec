"""The merge request threads ``secplan review comments`` mapped last, kept in
``.secplan/mr-threads.json`` so ``secplan check`` (SP501) and the web can count and show them
without talking to GitLab.

Only ``json`` and ``pathlib`` here: the check path imports this module and must stay fast and
offline. The file is one JSON object ``{"version": 1, "merge_requests": {"g/p!12": {...}}}``;
each merge request keeps its ``state`` (``opened``, ``merged``, ``closed``), ``web_url``,
``head_sha``, ``fetched_at`` and its mapped ``threads`` (the JSON of ``review comments``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CACHE_FILE = Path(".secplan", "mr-threads.json")
VERSION = 1


def read_cache(root: Path) -> dict[str, dict[str, Any]]:
    """Merge request ref -> its cached entry; {} when there is no (readable) cache."""
    try:
        data = json.loads((root / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    mrs = data.get("merge_requests")
    if not isinstance(mrs, dict):
        return {}
    return {str(k): v for k, v in mrs.items() if isinstance(v, dict)}


def write_entry(root: Path, ref: str, entry: Mapping[str, Any]) -> Path:
    """Replace merge request ``ref``'s entry (others kept), written whole through a temporary
    file and ``os.replace`` so a reader never sees half a file."""
    mrs = read_cache(root)
    mrs[ref] = dict(entry)
    path = root / CACHE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():  # keep .secplan/ out of Git, as the store does
        with contextlib.suppress(OSError):
            ignore.write_text("*\n", encoding="utf-8")
    text = json.dumps({"version": VERSION, "merge_requests": mrs}, indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mr-threads.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def current_mr(env: Mapping[str, str] | None = None) -> str | None:
    """The merge request a GitLab CI merge request pipeline runs for (``g/p!12``), if any."""
    env = os.environ if env is None else env
    project = env.get("CI_MERGE_REQUEST_PROJECT_PATH") or env.get("CI_PROJECT_PATH")
    iid = env.get("CI_MERGE_REQUEST_IID")
    return f"{project}!{iid}" if project and iid and iid.isdigit() else None


def open_mr_thread_counts(root: Path, env: Mapping[str, str] | None = None) -> dict[str, int]:
    """Plan id -> unresolved merge request threads, from the cache: the threads of the merge
    request a CI pipeline runs for, else of every cached merge request still open."""
    mrs = read_cache(root)
    only = current_mr(env)
    if only is not None:
        mrs = {k: v for k, v in mrs.items() if k.lower() == only.lower()}
    counts: dict[str, int] = {}
    for entry in mrs.values():
        if entry.get("state", "opened") != "opened":
            continue  # merged or closed: its threads no longer hold anything up
        for thread in entry.get("threads") or []:
            if not isinstance(thread, dict) or thread.get("resolved") or not thread.get("plan"):
                continue
            if not thread.get("resolvable", True):
                continue
            plan = str(thread["plan"])
            counts[plan] = counts.get(plan, 0) + 1
    return counts
