"""The parse cache of one handbook: one SQLite file, ``<root>/.secplan/cache/plans.sqlite3``.

It holds two tables:

- ``plans``: parse results keyed by :func:`cache_key` — the content hash of the file's bytes,
  the parser version, the stored format and every option that changes the parse (anchor
  flavour, default project and group) — so a changed file, a new secplan or a changed
  configuration all miss. Entries are JSON text, never pickle: a cache that arrived with a
  cloned repository must not be able to run code.
- ``files``: the index, like git's: root-relative path → size, mtime, ctime, inode and the
  content hash of the bytes last read. A file whose ``stat`` matches its row is not read
  again. **The rule:** a stat match is trusted only when the row was recorded at least
  :data:`RACY_NS` (2 s) after the file's last change (the later of mtime and ctime).
  Otherwise the file is "racily clean": a write in the same timestamp tick as the recorded
  one (coarse file-system clocks, FAT's 2 s) could leave size and times unchanged, so its
  bytes are read and hashed again — the content hash, not the timestamps, decides. Once a
  re-read finds the file old enough, its row is trusted from then on.

Everything is read in bulk (one query for the index, one for the entries on big loads) and
written in one transaction at the end of a load; on big loads the parse results are written
in batches of :data:`FLUSH_ENTRIES` as they come, so their JSON is never all held at once.
The cache is only a speed-up: a corrupt or foreign file is a miss (and replaced), a cache
that cannot be written (read-only checkout, ``.secplan`` not a directory, a locked database)
is simply not written, and a cache path through a symbolic link is never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import NamedTuple

from secplan.handbook.serialize import FORMAT_VERSION, plan_from_data
from secplan.markdown.version import PARSER_VERSION
from secplan.model import Plan

CACHE_DIR = Path(".secplan") / "cache"
CACHE_FILE = CACHE_DIR / "plans.sqlite3"
#: Set to any non-empty value to neither read nor write the cache.
DISABLE_ENV = "SECPLAN_NO_CACHE"
#: A stat match is trusted only for rows recorded this long after the file last changed.
RACY_NS = 2_000_000_000
#: Above this many lookups, a whole table is read in one query instead of row by row.
BULK_THRESHOLD = 200
#: Up to this many, the rows are read with one ``IN`` query (the batches of a whole-handbook
#: check); above it, the whole table.
IN_THRESHOLD = 1000
#: Queued parse results are written once this many are waiting: a cold load of a big
#: handbook never holds the JSON of every plan.
FLUSH_ENTRIES = 256
_SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS plans (key TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS files (rel_path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, ino INTEGER NOT NULL,"
    " hash TEXT NOT NULL, checked_ns INTEGER NOT NULL)",
)
_LEGACY_DIR = CACHE_DIR / "plans"  # one JSON file per plan, before the SQLite cache


class FileStamp(NamedTuple):
    """What ``stat`` says about a file, as the index keeps it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        """The stamp of a ``stat`` result."""
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class IndexRow(NamedTuple):
    """One file in the index: its stamp when read, the hash of its bytes, when it was read."""

    stamp: FileStamp
    hash: str
    checked_ns: int


def cache_key(content_hash: str, *options: str | None) -> str:
    """The entry name for a file with this content hash parsed with these options."""
    parts = [PARSER_VERSION, FORMAT_VERSION, content_hash, *(o or "" for o in options)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def safe_location(root: Path, file: Path = CACHE_FILE) -> bool:
    """False when part of a cache file's path (relative to ``root``) is a symbolic link or of
    the wrong kind.

    A cloned repository could ship ``.secplan/cache`` as a link to somewhere else; writing
    there would touch files that are not the cache's.
    """
    path = root
    for part in file.parts:
        path = path / part
        if path.is_symlink():
            return False
        if path.exists() and (path.is_dir() != (part != file.name)):
            return False
    return True


class PlanCache:
    """The cache of one handbook. ``hits``/``misses`` count entry lookups (tests read them)."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root
        self.dir = root / CACHE_DIR
        self.file = root / CACHE_FILE
        self.enabled = enabled and not os.environ.get(DISABLE_ENV) and safe_location(root)
        self.writable = True
        self.hits = 0
        self.misses = 0
        self.used: set[str] = set()  # entry keys of this load, kept by a pruning commit
        self._readable = self.enabled and self.file.is_file()
        self._corrupt = False
        self._db: sqlite3.Connection | None = None
        self._new_entries: dict[str, str] = {}
        self._new_rows: dict[str, IndexRow] = {}
        # Everything stored, when a whole table was read: lets a commit see there is no
        # stale row to prune, and skip writing.
        self._all_stored: dict[str, set[str]] = {}

    # -- reading ----------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection | None:
        if not self._readable:
            return None
        if self._db is None:
            try:
                self._db = connect(self.file, read_only=True)
                if self._db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
                    self._fail_read(corrupt=True)
            except sqlite3.Error:
                self._fail_read(corrupt=True)
        return self._db

    def _fail_read(self, *, corrupt: bool) -> None:
        self._readable = False
        self._corrupt = self._corrupt or corrupt
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _select(self, table: str, column: str, wanted: Collection[str]) -> list[tuple]:  # type: ignore[type-arg]
        db = self._reader()
        if db is None or not wanted:
            return []
        try:
            if len(wanted) > (IN_THRESHOLD if table == "plans" else BULK_THRESHOLD):
                rows = db.execute(f"SELECT * FROM {table}").fetchall()
                self._all_stored[table] = {row[0] for row in rows}
                return rows
            if len(wanted) > BULK_THRESHOLD:  # a batch of a big load: one query, its rows only
                values = list(wanted)
                rows = []
                for i in range(0, len(values), 500):  # old SQLite allows 999 variables
                    part = values[i : i + 500]
                    marks = ",".join("?" * len(part))
                    query = f"SELECT * FROM {table} WHERE {column} IN ({marks})"
                    rows.extend(db.execute(query, part).fetchall())
                return rows
            query = f"SELECT * FROM {table} WHERE {column} = ?"
            return [row for value in wanted for row in db.execute(query, (value,))]
        except sqlite3.Error:
            self._fail_read(corrupt=True)
            return []

    def index(self, rel_paths: Collection[str]) -> dict[str, IndexRow]:
        """The index rows of these files (those it has)."""
        rows: dict[str, IndexRow] = {}
        for rel_path, size, mtime, ctime, ino, digest, checked in self._select(
            "files", "rel_path", rel_paths
        ):
            try:
                rows[rel_path] = IndexRow(
                    FileStamp(int(size), int(mtime), int(ctime), int(ino)),
                    str(digest),
                    int(checked),
                )
            except (TypeError, ValueError):
                continue  # a doctored row is no row: the file is read again
        return rows

    @staticmethod
    def known_hash(row: IndexRow | None, stamp: FileStamp) -> str | None:
        """The recorded content hash when ``stamp`` proves the file unchanged, else None."""
        if row is None or row.stamp != stamp:
            return None
        if row.checked_ns - max(stamp.mtime_ns, stamp.ctime_ns) < RACY_NS:
            return None  # racily clean: the bytes decide
        return row.hash

    def record(self, rel_path: str, stamp: FileStamp, digest: str, checked_ns: int) -> None:
        """Remember that the file had ``stamp`` and these bytes when read at ``checked_ns``."""
        if self.enabled:
            self._new_rows[rel_path] = IndexRow(stamp, digest, checked_ns)

    def entries(self, keys: Collection[str]) -> dict[str, str]:
        """The stored JSON of these entry keys (those it has)."""
        found: dict[str, str] = {}
        if not self.enabled:
            return found
        wanted = set(keys)
        for key, data in self._select("plans", "key", wanted):
            if key in wanted and isinstance(data, str):
                found[key] = data
        return found

    def get(self, key: str, *, plan_id: str, path: Path, rel_path: str) -> Plan | None:
        """The cached plan for ``key`` placed at ``path``, or None (missing or unusable)."""
        return self.plan(
            self.entries([key]).get(key), plan_id=plan_id, path=path, rel_path=rel_path
        )

    def plan(self, payload: str | None, *, plan_id: str, path: Path, rel_path: str) -> Plan | None:
        """A plan rebuilt from an entry's JSON; None (a miss) when absent or unusable."""
        if payload is None:
            self.misses += 1
            return None
        try:
            plan = plan_from_data(
                json.loads(payload), plan_id=plan_id, path=path, rel_path=rel_path
            )
        except Exception:  # any corrupt entry is a miss: the file is simply parsed again
            self.misses += 1
            return None
        self.hits += 1
        return plan

    def _read_keys(self, table: str, column: str) -> None:
        """Note every stored ``column`` of ``table`` (when the entries were read in batches,
        not whole): lets a commit see there is nothing stale."""
        if table in self._all_stored or self._db is None:
            return
        try:
            self._all_stored[table] = {
                row[0] for row in self._db.execute(f"SELECT {column} FROM {table}")
            }
        except sqlite3.Error:
            return

    # -- writing ----------------------------------------------------------------------------

    def put(self, key: str, payload: str) -> None:
        """Queue a parse result (the JSON of :func:`plan_to_data`) for :meth:`commit`."""
        if self.enabled and self.writable:
            self._new_entries[key] = payload
            if len(self._new_entries) >= FLUSH_ENTRIES:
                self._flush_entries()

    def _insert_entries(self, db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO plans (key, data) VALUES (?, ?)", self._new_entries.items()
        )

    def _flush_entries(self) -> None:
        """Write the queued parse results now, in their own transaction (the index rows and
        the pruning wait for :meth:`commit`)."""
        try:
            db = open_for_writing(self.root, CACHE_FILE, corrupt=self._corrupt)
            try:
                with db:
                    begin_with_schema(db, _SCHEMA, _SCHEMA_VERSION)
                    self._insert_entries(db)
            finally:
                db.close()
            self._corrupt = False  # replaced: what was just written must stay
        except (OSError, sqlite3.Error):
            self.writable = False
        self._new_entries.clear()

    def commit(self, *, present: Iterable[str] | None = None) -> None:
        """Write what this load learnt in one transaction; failures are ignored.

        ``present`` (after a whole-handbook load) lists every plan file's path: index rows of
        other paths and entries not :attr:`used` by this load are removed.
        """
        if present is not None and not (self._new_entries or self._new_rows):
            self._read_keys("plans", "key")
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if not (self.enabled and self.writable):
            return
        if not (self._new_entries or self._new_rows or present is not None):
            return
        if present is not None and not (self._new_entries or self._new_rows):
            stored_paths, stored_keys = self._all_stored.get("files"), self._all_stored.get("plans")
            if stored_paths is not None and stored_keys is not None:
                present = set(present)
                if stored_paths <= present and stored_keys <= self.used:
                    return  # an unchanged handbook: nothing to add, nothing stale
        try:
            self._write(present)
        except (OSError, sqlite3.Error):
            self.writable = False
        finally:
            self._new_entries.clear()
            self._new_rows.clear()

    def _write(self, present: Iterable[str] | None) -> None:
        nothing_new = not (self._new_entries or self._new_rows)
        if not self.dir.is_dir() and present is not None and nothing_new:
            return  # nothing cached and nothing to cache
        db = open_for_writing(self.root, CACHE_FILE, corrupt=self._corrupt)
        try:
            with db:
                begin_with_schema(db, _SCHEMA, _SCHEMA_VERSION)
                self._insert_entries(db)
                db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (rel, *row.stamp, row.hash, row.checked_ns)
                        for rel, row in self._new_rows.items()
                    ],
                )
                if present is not None:
                    self._prune(db, "files", "rel_path", set(present))
                    self._prune(db, "plans", "key", self.used)
        finally:
            db.close()
        self._corrupt = False
        self._remove_legacy()

    def _remove_legacy(self) -> None:
        legacy = self.root / _LEGACY_DIR
        if legacy.is_dir() and not legacy.is_symlink():
            import shutil  # rarely needed; with bz2 and lzma it costs a few ms of every start

            shutil.rmtree(legacy, ignore_errors=True)

    def _prune(self, db: sqlite3.Connection, table: str, column: str, keep: set[str]) -> None:
        """Remove the rows whose ``column`` is not in ``keep``, by name: after an edit only a
        few are stale, and reading the names is cheaper than shipping ``keep`` to SQLite."""
        stored = self._all_stored.get(table)
        if stored is None:
            stored = {row[0] for row in db.execute(f"SELECT {column} FROM {table}")}
        stale = ((value,) for value in sorted(stored - keep))
        db.executemany(f"DELETE FROM {table} WHERE {column} = ?", stale)


def open_for_writing(root: Path, file: Path, *, corrupt: bool) -> sqlite3.Connection:
    """A writable connection to the cache file ``root / file``: its folder made (and kept out
    of version control without touching the user's .gitignore), its path checked for links,
    a damaged or foreign file removed first. Raises OSError on an unsafe location."""
    path = root / file
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    if not safe_location(root, file):
        raise OSError("unsafe cache location")
    if corrupt and path.is_file():
        path.unlink()  # not ours or damaged: start again
    return connect(path, read_only=False)


def begin_with_schema(db: sqlite3.Connection, schema: Iterable[str], version: int) -> None:
    """Start a write transaction, creating the tables first when the file's schema is not
    ``version`` (a new file, or one from another secplan)."""
    db.execute("BEGIN IMMEDIATE")
    if db.execute("PRAGMA user_version").fetchone()[0] != version:
        for statement in schema:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")


def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """A connection to a cache file (autocommit; read-only unless asked), schema untrusted."""
    mode = "ro" if read_only else "rwc"
    db = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode={mode}", uri=True, timeout=5, isolation_level=None
    )
    # The file may come from elsewhere: no SQL functions from its schema run on our queries.
    db.execute("PRAGMA trusted_schema = OFF")
    return db


def now_ns() -> int:
    """The clock the index records ``checked_ns`` with."""
    return time.time_ns()
