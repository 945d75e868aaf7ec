"""Per-file parse results cached by content hash under ``<root>/.secplan/cache/plans``.

The key covers the file's bytes, the parser version and every option that changes the parse
(anchor flavour, default project and group), so a changed file, a new secplan or a changed
configuration all miss. Entries are JSON, never pickle: a cache directory that arrived with a
cloned repository must not be able to run code. A corrupt or unreadable entry is a miss, and
a cache that cannot be written (read-only checkout) is simply not written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from secplan.handbook.serialize import plan_from_data, plan_to_data
from secplan.markdown.parser import PARSER_VERSION
from secplan.model import Plan

CACHE_DIR = Path(".secplan") / "cache" / "plans"
#: Set to any non-empty value to neither read nor write the cache.
DISABLE_ENV = "SECPLAN_NO_CACHE"
_KEY = re.compile(r"[0-9a-f]{64}")


def cache_key(content_hash: str, *options: str | None) -> str:
    """The entry name for a file with this content hash parsed with these options."""
    parts = [PARSER_VERSION, content_hash, *(o or "" for o in options)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _safe_location(root: Path) -> bool:
    """False when part of the cache path is a symbolic link or a non-directory.

    A cloned repository could ship ``.secplan/cache`` as a link to somewhere else; writing
    (and pruning) there would touch files that are not the cache's.
    """
    path = root
    for part in CACHE_DIR.parts:
        path = path / part
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            return False
    return True


class PlanCache:
    """The cache of one handbook. ``hits``/``misses`` count lookups (for benchmarks)."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.dir = root / CACHE_DIR
        self.enabled = enabled and not os.environ.get(DISABLE_ENV) and _safe_location(root)
        self.writable = True
        self.hits = 0
        self.misses = 0
        self.used: set[str] = set()  # keys of this load, kept by prune()

    def _entry(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str, *, plan_id: str, path: Path, rel_path: str) -> Plan | None:
        """The cached plan for ``key`` placed at ``path``, or None (missing or unusable)."""
        if not self.enabled:
            return None
        try:
            data = json.loads(self._entry(key).read_bytes())
            plan = plan_from_data(data, plan_id=plan_id, path=path, rel_path=rel_path)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # any corrupt entry is a miss: the file is simply parsed again
            self.misses += 1
            return None
        self.hits += 1
        return plan

    def put(self, key: str, plan: Plan) -> None:
        """Store a parsed plan; failures to write are ignored (the cache is only a speed-up)."""
        if not (self.enabled and self.writable):
            return
        entry = self._entry(key)
        try:
            if not self.dir.exists():
                self.dir.mkdir(parents=True, exist_ok=True)
                # Keep the cache out of version control without touching the user's .gitignore.
                ignore = self.dir.parent / ".gitignore"
                if not ignore.exists():
                    ignore.write_text("*\n", encoding="utf-8")
            entry.parent.mkdir(exist_ok=True)
            payload = json.dumps(plan_to_data(plan), separators=(",", ":"), default=str)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                os.replace(tmp, entry)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, TypeError, ValueError):
            self.writable = False

    def prune(self, keep: set[str]) -> int:
        """Remove entries not in ``keep`` (after a whole-handbook load); returns how many."""
        if not (self.enabled and self.writable) or not self.dir.is_dir():
            return 0
        removed = 0
        try:
            for sub in self.dir.iterdir():
                if not sub.is_dir():
                    continue
                for entry in sub.iterdir():
                    stem = entry.stem
                    if entry.suffix == ".json" and _KEY.fullmatch(stem) and stem not in keep:
                        entry.unlink(missing_ok=True)
                        removed += 1
        except OSError:
            pass
        return removed
