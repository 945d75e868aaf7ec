"""The check snapshot's file, ``.secplan/cache/check.sqlite3``: one run's output, file by file.

The layout is chosen so that a check where little changed reads a handful of values, not a row
per file:

- ``meta`` (one row): the key of the run's inputs; ``data`` (JSON: plans checked, totals by
  severity, the listed directories' times); what the rules read (``paths``: files asked about
  and whether they existed; ``reads``: plans read whole, plans whose anchors were read); the
  files in output order as three NUL-joined lists (root-relative path, plan id, ``stat`` stamp
  — all empty for a path with findings that is no plan file; :data:`RACY` for a file that
  changed too close to its reading to be known by its stamp); ``body``, every file's piece of
  the output in order, with the JSON list of the pieces' offsets;
- ``files`` (a row per file): what a re-check of it compares (the digest of its anchors, its
  catalog row, whether handbook findings share it) and its finding counts; a file re-checked
  since the body was written also holds its new ``stamp`` and ``piece`` (a patch).

Paths and plan ids never hold NUL, so the lists split exactly. Nothing here is trusted: a
damaged file reads as None (no snapshot), and writes that fail leave it as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from secplan.handbook.cache import CACHE_DIR, RACY_NS, FileStamp, connect, open_for_writing

SNAPSHOT_FILE = CACHE_DIR / "check.sqlite3"
_SCHEMA_VERSION = 4
_SCHEMA = (
    "CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), key TEXT NOT NULL,"
    " data TEXT NOT NULL, paths TEXT NOT NULL, reads TEXT NOT NULL, rels TEXT NOT NULL,"
    " pids TEXT NOT NULL, stamps TEXT NOT NULL, body BLOB NOT NULL, offsets TEXT NOT NULL)",
    "CREATE TABLE files (idx INTEGER PRIMARY KEY, anchors TEXT NOT NULL, row TEXT NOT NULL,"
    " mixed INTEGER NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL,"
    " infos INTEGER NOT NULL, fixable INTEGER NOT NULL, stamp TEXT, piece BLOB)",
)
_PAGE_SIZE = 65536
#: The stamp of a file that must be read again whatever ``stat`` says.
RACY = "racy"

Counts = tuple[int, int, int, int]  # errors, warnings, infos, fixable


def stamp_text(stamp: FileStamp, checked_ns: int) -> str:
    """A file's stamp as stored: :data:`RACY` when it changed within the racy-clean window of
    when it was read (a later change could keep the same stamp)."""
    if checked_ns - max(stamp.mtime_ns, stamp.ctime_ns) < RACY_NS:
        return RACY
    return f"{stamp.size}:{stamp.mtime_ns}:{stamp.ctime_ns}:{stamp.ino}"


class Entry(NamedTuple):
    """One file of a full snapshot."""

    rel_path: str  # "" for a path with findings that is no plan file
    plan_id: str
    stamp: str
    anchors: str  # digest of its anchor ids
    row: str  # its catalog row
    mixed: bool  # handbook-level findings share its path
    counts: Counts
    piece: bytes


class Detail(NamedTuple):
    """What a re-check of one file compares, and its counts."""

    anchors: str
    row: str
    mixed: bool
    counts: Counts


class Patch(NamedTuple):
    """A re-checked file's new state."""

    stamp: str
    anchors: str
    counts: Counts
    piece: bytes


Chunk = bytes | memoryview


class Stored:
    """A snapshot as read: the files' lists (patches applied) and the output body."""

    def __init__(
        self,
        data: dict[str, Any],
        paths: dict[str, Any],
        reads: str,
        lists: tuple[list[str], list[str], list[str]],
        body: bytes,
        offsets: str,
        patched: dict[int, bytes],
    ) -> None:
        self.data, self.paths, self._reads = data, paths, reads
        self.rels, self.pids, self.stamps = lists
        self._body, self._offsets, self._patched = body, offsets, patched

    def reads(self) -> dict[str, Any]:
        """What the rules read of other plans (decoded only when a plan changed)."""
        value = json.loads(self._reads)
        if not isinstance(value, dict):
            raise ValueError("reads")
        return value

    def body(self, replaced: Mapping[int, bytes]) -> list[Chunk]:
        """Every piece in order, with the patched ones and ``replaced`` put in."""
        pieces = {**self._patched, **replaced}
        if not pieces:
            return [self._body]
        offsets = json.loads(self._offsets)
        n = len(self.rels)
        if not (len(offsets) == n + 1 and offsets[0] == 0 and offsets[-1] == len(self._body)):
            raise ValueError("offsets")
        out: list[Chunk] = []
        view, at = memoryview(self._body), 0
        for idx in sorted(pieces):
            out.append(view[offsets[at] : offsets[idx]])
            out.append(pieces[idx])
            at = idx + 1
        out.append(view[offsets[at] :])
        return out


def read(file: Path, key: str) -> Stored | None:
    """The snapshot in ``file`` when it was made for ``key``, else None (raises
    sqlite3.Error, ValueError or TypeError on a damaged file)."""
    db = connect(file, read_only=True)
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
            return None
        row = db.execute(
            "SELECT data, paths, reads, rels, pids, stamps, body, offsets FROM meta"
            " WHERE id = 1 AND key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        data, paths, reads, rels, pids, stamps, body, offsets = row
        stamp_list = stamps.split("\0") if stamps else []
        patched: dict[int, bytes] = {}
        for idx, stamp, piece in db.execute(
            "SELECT idx, stamp, piece FROM files WHERE stamp IS NOT NULL"
        ):
            stamp_list[idx] = str(stamp)
            patched[idx] = bytes(piece)
    finally:
        db.close()
    lists = (rels.split("\0") if rels else [], pids.split("\0") if pids else [], stamp_list)
    if not len(lists[0]) == len(lists[1]) == len(lists[2]) or not isinstance(body, bytes):
        return None
    decoded, path_reads = json.loads(data), json.loads(paths)
    if not (isinstance(decoded, dict) and isinstance(path_reads, dict)):
        return None
    return Stored(decoded, path_reads, str(reads), lists, body, str(offsets), patched)


def details(file: Path, rows: Iterable[int]) -> dict[int, Detail]:
    """The stored details of some files (by their place in the output)."""
    db = connect(file, read_only=True)
    try:
        out = {}
        for idx in rows:
            found = db.execute(
                "SELECT anchors, row, mixed, errors, warnings, infos, fixable FROM files"
                " WHERE idx = ?",
                (idx,),
            ).fetchone()
            if found is None:
                raise KeyError(idx)
            anchors, row, mixed, *counts = found
            out[idx] = Detail(
                anchors, row, bool(mixed), (counts[0], counts[1], counts[2], counts[3])
            )
        return out
    finally:
        db.close()


def write(
    root: Path,
    key: str,
    data: dict[str, Any],
    reads: tuple[dict[str, Any], dict[str, Any]],
    entries: list[Entry],
) -> None:
    """Replace the snapshot with a full one, ``reads`` being the paths asked about and the
    other reads (raises OSError or sqlite3.Error)."""
    offsets = [0]
    for entry in entries:
        offsets.append(offsets[-1] + len(entry.piece))
    # A new file put in place at once: a reader sees the old snapshot or the new one, and the
    # new one gets large pages (the body is read in a few of them, not in thousands).
    scratch = SNAPSHOT_FILE.with_name(f"{SNAPSHOT_FILE.name}.{os.getpid()}.new")
    db = open_for_writing(root, scratch, corrupt=True)
    try:
        db.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
        with db:
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            db.execute(
                "INSERT INTO meta VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    json.dumps(data),
                    json.dumps(reads[0]),
                    json.dumps(reads[1]),
                    "\0".join(e.rel_path for e in entries),
                    "\0".join(e.plan_id for e in entries),
                    "\0".join(e.stamp for e in entries),
                    b"".join(e.piece for e in entries),
                    json.dumps(offsets),
                ),
            )
            db.executemany(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                ((idx, e.anchors, e.row, int(e.mixed), *e.counts) for idx, e in enumerate(entries)),
            )
        db.close()
        os.replace(root / scratch, root / SNAPSHOT_FILE)
    finally:
        db.close()
        (root / scratch).unlink(missing_ok=True)


def patch(
    root: Path,
    data: dict[str, Any],
    reads: tuple[dict[str, Any], dict[str, Any]],
    patches: Mapping[int, Patch],
) -> None:
    """Record re-checked files, the run's new ``data`` and ``reads`` (raises OSError or
    sqlite3.Error)."""
    db = open_for_writing(root, SNAPSHOT_FILE, corrupt=False)
    try:
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "UPDATE files SET stamp = ?, anchors = ?, errors = ?, warnings = ?, infos = ?,"
                " fixable = ?, piece = ? WHERE idx = ?",
                ((p.stamp, p.anchors, *p.counts, p.piece, idx) for idx, p in patches.items()),
            )
            db.execute(
                "UPDATE meta SET data = ?, paths = ?, reads = ? WHERE id = 1",
                (json.dumps(data), json.dumps(reads[0]), json.dumps(reads[1])),
            )
    finally:
        db.close()
