"""The static site's search index: Pagefind, in shards, so a rebuild re-indexes what changed.

Pagefind has no incremental mode: one run indexes every page it is given. The pages are
therefore split into shards by a stable hash of their path, each indexed by its own Pagefind
run into ``pagefind/shard-NN/``; a rebuild runs Pagefind only for the shards whose pages were
written, added or removed. The browser merges the shards (Pagefind's ``mergeIndex``, the
feature it has for searching several sites at once): ``pagefind/shards.json`` lists them for
``search.js``, and the UI's own script and styles are copied to ``pagefind/`` where the search
page links them.

The shard count depends only on how many pages there are, in powers of two, so it changes
(and everything is indexed again) only when the site doubles or halves.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BUNDLE = "pagefind"
STATE = f"{BUNDLE}/shards.json"
#: About this many pages per shard; a rebuild re-indexes one shard per edited page.
PAGES_PER_SHARD = 64
#: The UI files the search page links from ``pagefind/`` (copied from the first shard).
UI_FILES = ("pagefind-ui.js", "pagefind-ui.css")


@dataclass
class SearchResult:
    """What indexing did."""

    ok: bool = True
    indexed: list[str] = field(default_factory=list)  # shard folders Pagefind wrote
    error: str = ""


def shard_count(pages: int) -> int:
    """Shards for ``pages`` pages: a power of two, about :data:`PAGES_PER_SHARD` pages each."""
    count = 1
    while count * PAGES_PER_SHARD < pages:
        count *= 2
    return count


def shard_of(page: str, count: int) -> int:
    """The shard a page belongs to: stable across builds and machines."""
    digest = hashlib.blake2b(page.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def _shard_dir(index: int) -> str:
    return f"{BUNDLE}/shard-{index:02d}"


def _load_state(out: Path) -> dict[int, list[str]]:
    """The shards the last build wrote, by number; {} when unknown."""
    try:
        data = json.loads((out / STATE).read_text("utf-8"))
        return {int(k): [str(p) for p in v] for k, v in data["shards"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _run_pagefind(out: Path, folder: str, pages: list[str]) -> str | None:
    """Index ``pages`` (site paths) into ``folder``; an error text, or None."""
    target = out / folder
    shutil.rmtree(target, ignore_errors=True)
    # A brace list selects exactly these files; commas and braces in names would break it.
    glob = "{" + ",".join(pages) + "}" if len(pages) > 1 else pages[0]
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pagefind", "--site", str(out), "--glob", glob),
            *("--output-subdir", folder, "--quiet"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return " / ".join(tail) or f"pagefind exited with {result.returncode}"
    return None


def _indexable(page: str) -> bool:
    """Plan pages (the only ones with ``data-pagefind-body``) whose names a glob can list."""
    return (
        page.startswith("plans/")
        and page.endswith(".html")
        and not any(ch in page for ch in "{},*?[]\\")
    )


def index_site(out: Path, pages: Collection[str], changed: Collection[str]) -> SearchResult:
    """Bring the search index of the site at ``out`` up to date.

    ``pages`` are the site's HTML pages (site paths), ``changed`` those this build wrote or
    removed. Shards none of whose plan pages changed are kept as they are. A plan page whose
    name has glob syntax in it (braces, commas, brackets) is not searchable.
    """
    wanted = sorted(p for p in pages if _indexable(p))
    count = shard_count(len(wanted))
    shards: dict[int, list[str]] = {}
    for page in wanted:
        shards.setdefault(shard_of(page, count), []).append(page)
    # A shard whose page list differs (the count changed, pages came or went) is indexed again.
    old = _load_state(out) if (out / BUNDLE).is_dir() else {}
    if not old:
        shutil.rmtree(out / BUNDLE, ignore_errors=True)  # no state: an older layout, or a failure
    touched = set(changed)
    todo = sorted(
        key
        for key, members in shards.items()
        if old.get(key) != members
        or touched.intersection(members)
        or not (out / _shard_dir(key) / "pagefind-entry.json").is_file()
    )
    for key in set(old) - set(shards):
        shutil.rmtree(out / _shard_dir(key), ignore_errors=True)
    workers = max(1, min(len(todo), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        errors = list(pool.map(lambda k: _run_pagefind(out, _shard_dir(k), shards[k]), todo))
    failed = [e for e in errors if e]
    if failed:
        (out / STATE).unlink(missing_ok=True)  # the next build starts again
        return SearchResult(ok=False, error=failed[0])
    (out / BUNDLE).mkdir(parents=True, exist_ok=True)
    if shards:
        first = _shard_dir(min(shards))
        for name in UI_FILES:
            source, copy = out / first / name, out / BUNDLE / name
            if source.is_file() and (todo or not copy.is_file()):
                shutil.copyfile(source, copy)
    ordered = sorted(shards)
    state = json.dumps(
        {
            "bundles": [_shard_dir(k) + "/" for k in ordered],
            "shards": {k: shards[k] for k in ordered},
        },
        separators=(",", ":"),
    )
    if _read(out / STATE) != state:  # an unchanged site writes nothing
        (out / STATE).write_text(state, "utf-8")
    return SearchResult(indexed=[_shard_dir(k) for k in todo])


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
