"""The findings cache of one handbook: ``<root>/.secplan/cache/findings.sqlite3``.

One row per plan file (root-relative path) holds what the last check found in it and why:

- ``plan_key``: the parse cache's key of the file (content hash, parser version, parse options);
- ``run_key``: everything else a finding depends on that is the same for every plan — the
  rules (secplan's version, the rule registry, the rule modules' files), the configuration,
  ``--select``/``--ignore``/``--require``;
- ``deps``: the cross-plan reads the rules made while checking it (``[kind, key, value]``:
  whether a plan id exists, another plan's anchors, its content, an open-thread count, whether
  a file exists). The row is reused only while every read would give the same value again;
- the plan's own *facts* other plans' checks read without rebuilding it: its anchor ids (and
  their digest) and its catalog row;
- ``findings``: the findings as JSON lists, displayed path left out (it depends on the working
  directory and is added when they are shown).

A second table holds the handbook-level findings (the catalog) with the fingerprint of
their inputs, a third the last file listing (:mod:`secplan.handbook.listing`). Like the parse
cache it is JSON, never pickle, only a speed-up (a corrupt file is a miss and replaced, an
unwritable one is not written) and never used through a symbolic link.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from secplan.handbook.cache import (
    CACHE_DIR,
    begin_with_schema,
    connect,
    open_for_writing,
    safe_location,
)

FINDINGS_FILE = CACHE_DIR / "findings.sqlite3"
_SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS plans (rel_path TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
    " plan_key TEXT NOT NULL, run_key TEXT NOT NULL, anchors TEXT NOT NULL,"
    " anchors_digest TEXT NOT NULL, row TEXT NOT NULL, deps TEXT NOT NULL,"
    " findings TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS handbook (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " fingerprint TEXT NOT NULL, findings TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS listing (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " data TEXT NOT NULL)",
)


class PlanRecord(NamedTuple):
    """One plan's row (JSON columns still encoded: most are never decoded on a warm run)."""

    plan_id: str
    plan_key: str
    run_key: str
    anchors: str  # JSON list of anchor ids
    anchors_digest: str
    row: str  # the plan's catalog row
    deps: str  # JSON list of [kind, key, value]
    findings: str  # JSON list of findings


class FindingsCache:
    """Read every row at once, write the changed ones in one transaction at the end."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root
        self.file = root / FINDINGS_FILE
        self.enabled = enabled and safe_location(root, FINDINGS_FILE)
        self._corrupt = False
        self._stored: set[str] = set()
        self._stored_handbook: str | None = None
        self._new: dict[str, PlanRecord] = {}
        self._new_handbook: tuple[str, str] | None = None
        self._new_listing: str | None = None
        self._db: sqlite3.Connection | None = None
        self._opened = False

    def _reader(self) -> sqlite3.Connection | None:
        if not self._opened:
            self._opened = True
            if self.enabled and self.file.is_file():
                try:
                    self._db = connect(self.file, read_only=True)
                    if self._db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
                        self._corrupt = True
                        self._close()
                except sqlite3.Error:
                    self._corrupt = True
                    self._close()
        return self._db

    def _close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    def listing(self) -> str | None:
        """The file listing stored by the last check, if any."""
        db = self._reader()
        if db is None:
            return None
        try:
            row = db.execute("SELECT data FROM listing WHERE id = 1").fetchone()
        except sqlite3.Error:
            self._corrupt = True
            return None
        return row[0] if row and isinstance(row[0], str) else None

    def put_listing(self, listing: str) -> None:
        """Queue a new file listing for :meth:`commit`."""
        if self.enabled:
            self._new_listing = listing

    def load(self) -> tuple[dict[str, PlanRecord], tuple[str, str] | None]:
        """Every stored plan row by path, and the handbook row (fingerprint, findings)."""
        db = self._reader()
        if db is None:
            return {}, None
        try:
            plans = {}
            for rel_path, *values in db.execute("SELECT * FROM plans"):
                self._stored.add(str(rel_path))
                if all(isinstance(v, str) for v in values):
                    plans[str(rel_path)] = PlanRecord(*values)
            handbook = None
            for fingerprint, findings in db.execute(
                "SELECT fingerprint, findings FROM handbook WHERE id = 1"
            ):
                if isinstance(fingerprint, str) and isinstance(findings, str):
                    handbook = (fingerprint, findings)
                    self._stored_handbook = fingerprint
            return plans, handbook
        except sqlite3.Error:
            self._corrupt = True
            self._stored.clear()
            return {}, None
        finally:
            self._close()

    def put(self, rel_path: str, record: PlanRecord) -> None:
        """Queue a plan's new row for :meth:`commit`."""
        if self.enabled:
            self._new[rel_path] = record

    def put_handbook(self, fingerprint: str, findings: str) -> None:
        """Queue the handbook-level findings and the fingerprint of their inputs."""
        if self.enabled and fingerprint != self._stored_handbook:
            self._new_handbook = (fingerprint, findings)

    def commit(self, present: Collection[str]) -> None:
        """Write the queued rows and drop rows of files no longer present; errors are ignored.

        Writes nothing at all when nothing changed (a warm check of an unchanged handbook).
        """
        self._close()
        if not self.enabled:
            return
        gone = self._stored.difference(present)
        if not (self._new or self._new_handbook or self._new_listing or gone):
            return
        try:
            self._write(gone)
        except (OSError, sqlite3.Error):
            pass  # only a speed-up: the next check simply finds less
        finally:
            self._new.clear()
            self._new_handbook = self._new_listing = None

    def _write(self, gone: set[str]) -> None:
        db = open_for_writing(self.root, FINDINGS_FILE, corrupt=self._corrupt)
        try:
            with db:
                begin_with_schema(db, _SCHEMA, _SCHEMA_VERSION)
                db.executemany(
                    "DELETE FROM plans WHERE rel_path = ?", ((rel,) for rel in sorted(gone))
                )
                db.executemany(
                    "INSERT OR REPLACE INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ((rel, *record) for rel, record in self._new.items()),
                )
                if self._new_handbook is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO handbook VALUES (1, ?, ?)", self._new_handbook
                    )
                if self._new_listing is not None:
                    db.execute("INSERT OR REPLACE INTO listing VALUES (1, ?)", (self._new_listing,))
        finally:
            db.close()
