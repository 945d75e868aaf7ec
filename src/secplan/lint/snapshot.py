"""The last whole-handbook check as its output, file by file: ``.secplan/cache/check.sqlite3``.

A check of a big handbook where one plan was edited should cost that plan, not the handbook.
The findings cache (:mod:`secplan.lint.incremental`) already avoids rebuilding and re-linting
unchanged plans, but it still looks at every plan in Python (its row, its reads, its findings,
then the sort and the encoding of all of them). The snapshot keeps the last run's *output*
instead: one row per file in output order with its ``stat`` stamp, the text of its findings in
the run's format, and their counts. A later run with the same inputs ``stat``s the files,
re-checks the few that changed and joins the stored texts.

It answers only when that is provably the same output as a full check:

- the run's inputs are the same (:func:`~secplan.lint.incremental.run_key`: the rules, the
  configuration, the options, the catalog page, the tracker's epics; plus the output format,
  the displayed root, the open review threads and the stored file listing), and that listing
  still holds (no directory changed, so the set of files is the same);
- every file not changed since has the stamp it had then (racily clean ones count as
  changed), and every file the rules asked about still exists or not as it did;
- what other plans' rules read of a changed plan is unchanged: its catalog row always (the
  catalog rules read every row), its anchors when a plan reads them, and no plan reads it
  whole; its findings are all on its own file, which holds no handbook-level finding.

Anything else (a new or removed file, an unreadable one, a changed heading someone links, a
KEP's ``kep.yaml``) leaves the run to the full check, which writes a new snapshot. A snapshot
never holds a handbook with files it could not read or KEP metadata (not covered by stamps).
Like the other caches it is only a speed-up: a damaged file is a miss, an unwritable one is not
written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from secplan.config import Config
from secplan.handbook.cache import (
    CACHE_DIR,
    RACY_NS,
    PlanCache,
    connect,
    open_for_writing,
    safe_location,
)
from secplan.handbook.conventions import apply_conventions
from secplan.handbook.files import CATALOG_NAMES
from secplan.handbook.kep import KEP_METADATA
from secplan.handbook.listing import listing_holds
from secplan.handbook.loader import Handbook, PlanFile, build_plans, scan_files
from secplan.lint.engine import CheckResult, Engine, _shown, root_prefix, sort_key
from secplan.lint.findings_cache import FindingsCache
from secplan.lint.incremental import Checker, World, anchors_digest, run_key
from secplan.lint.registry import Finding
from secplan.model import Plan

SNAPSHOT_FILE = CACHE_DIR / "check.sqlite3"
_SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " key TEXT NOT NULL, data TEXT NOT NULL)",
    # One row per plan file and per other path with findings, in output order.
    "CREATE TABLE IF NOT EXISTS files (idx INTEGER PRIMARY KEY, rel_path TEXT, plan_id TEXT,"
    " stamp TEXT, checked_ns INTEGER NOT NULL, anchors TEXT NOT NULL, row TEXT NOT NULL,"
    " mixed INTEGER NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL,"
    " infos INTEGER NOT NULL, fixable INTEGER NOT NULL, fragment TEXT NOT NULL)",
)
_COUNTED = ("error", "warning", "info", "fixable")
#: More changed plans than this and the full check is as cheap.
MAX_CHANGED = 64


class Rendering:
    """An output format the snapshot can keep: ``json``, or ``text`` with or without colour."""

    def __init__(self, fmt: str, colour: bool = False) -> None:
        if fmt not in ("json", "text"):
            raise ValueError(fmt)
        self.fmt, self.colour = fmt, colour and fmt == "text"
        self.name = f"{fmt}+colour" if self.colour else fmt

    def fragment(self, findings: list[Finding]) -> str:
        """The output text of one file's findings."""
        if self.fmt == "json":
            from secplan.lint.formats.json_format import encode_items

            return encode_items(findings)
        from secplan.lint.formats.text import line_of

        return "".join([line_of(f, self.colour) for f in findings])

    def document(self, parts: list[str], plans_checked: int, counts: Mapping[str, int]) -> str:
        """The whole output from the files' fragments in order (``counts``: by severity, and
        ``fixable``)."""
        if self.fmt == "json":
            from secplan.lint.formats.json_format import assemble

            return assemble(parts) + "\n"
        from secplan.lint.formats.text import summary_of

        severities = {k: v for k, v in counts.items() if k != "fixable"}
        summary = summary_of(plans_checked, severities, fixed=0, fixable=counts["fixable"])
        return "".join(parts) + "".join(line + "\n" for line in summary)


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _counts(findings: list[Finding]) -> tuple[int, int, int, int]:
    sev = [f.severity for f in findings]
    fixable = sum(1 for f in findings if f.fixable)
    return sev.count("error"), sev.count("warning"), sev.count("info"), fixable


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def snapshot_key(
    key: str,
    rendering: Rendering,
    prefix: str | None,
    listing: str | None,
    threads: Mapping[str, int],
) -> str:
    """The inputs of a run beyond its files: the findings' run key, the output, the listing."""
    return _digest(
        key,
        rendering.name,
        repr(prefix),
        hashlib.sha256((listing or "").encode()).hexdigest(),
        json.dumps(sorted(threads.items())),
    )


class _Reads:
    """What the rules of all plans read, as far as a changed plan can matter to the others."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data or {}
        self.plans: set[str] = set(data.get("plans", ()))  # read whole
        self.anchors: set[str] = set(data.get("anchors", ()))  # anchors read
        self.paths: dict[str, Any] = dict(data.get("paths", {}))  # files asked about

    def add(self, deps: list[list[Any]]) -> None:
        for kind, key, value in deps:
            if kind == "plan":
                self.plans.add(key)
            elif kind == "anchors":
                self.anchors.add(key)
            elif kind == "path":
                self.paths[key] = value

    def data(self) -> dict[str, Any]:
        return {
            "plans": sorted(self.plans),
            "anchors": sorted(self.anchors),
            "paths": self.paths,
        }


class _LazySlots(Mapping[str, PlanFile]):
    """Every plan file by id, each scanned only when a rule asks about it."""

    def __init__(self, handbook: Handbook, rel_of: dict[str, str], cache: PlanCache) -> None:
        self._handbook, self._rel_of, self._cache = handbook, rel_of, cache
        self.slots: dict[str, PlanFile] = {}

    def __getitem__(self, pid: str) -> PlanFile:
        slot = self.slots.get(pid)
        if slot is None:
            rel = self._rel_of[pid]
            hb = self._handbook
            slot = scan_files(hb, [hb.root / rel], hb.catalog_path, self._cache)[0]
            self.slots[pid] = slot
        return slot

    def __iter__(self) -> Iterator[str]:
        return iter(self._rel_of)

    def __len__(self) -> int:
        return len(self._rel_of)

    def __contains__(self, pid: object) -> bool:
        return pid in self._rel_of


class _LazyWorld(World):
    """The handbook for a few changed plans: other plans are rebuilt only when read."""

    def anchors(self, pid: str) -> Any:
        if pid not in self.anchor_ids:
            plan = self.plan(pid)
            if plan is None:
                return None
            self.anchor_ids[pid] = plan.anchor_ids()
        return super().anchors(pid)

    def anchor_digest(self, pid: str) -> str:
        if pid not in self.anchor_digests:
            ids = self.anchors(pid)
            if ids is None:
                return super().anchor_digest(pid)
            self.anchor_digests[pid] = anchors_digest(ids)
        return self.anchor_digests[pid]


class _Run(NamedTuple):
    """The inputs of one check beyond its files."""

    config: Config
    engine: Engine
    page: Path | None
    key: str
    prefix: str | None
    require_ready: bool
    threads: Mapping[str, int]
    cwd: Path | None
    known_epics: frozenset[str] | None


#: A re-checked plan's row: its fragment, its counts (:data:`_COUNTED`), its slot, the digest
#: of its anchors.
_Redone = dict[int, tuple[str, tuple[int, int, int, int], PlanFile, str]]


class Snapshot:
    """The snapshot of one handbook for one output format."""

    def __init__(self, root: Path, rendering: Rendering) -> None:
        self.root, self.rendering = root, rendering
        self.file = root / SNAPSHOT_FILE
        self.enabled = safe_location(root, SNAPSHOT_FILE) and not os.environ.get("SECPLAN_NO_CACHE")

    # --- answering from it -------------------------------------------------------------------

    def check(
        self,
        config: Config,
        engine: Engine,
        *,
        require_ready: bool,
        open_threads: Mapping[str, int],
        cwd: Path | None,
        known_epics: frozenset[str] | None,
    ) -> CheckResult | None:
        """The check's result from the snapshot, re-checking what changed; None when only a
        full check can tell."""
        if not (self.enabled and self.file.is_file()):
            return None
        try:
            return self._check(config, engine, require_ready, open_threads, cwd, known_epics)
        except (sqlite3.Error, OSError, ValueError, TypeError, KeyError):
            return None  # a damaged or vanished snapshot: the full check answers

    def _check(
        self,
        config: Config,
        engine: Engine,
        require_ready: bool,
        threads: Mapping[str, int],
        cwd: Path | None,
        known_epics: frozenset[str] | None,
    ) -> CheckResult | None:
        root = self.root
        page = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
        store = FindingsCache(root)
        listing = store.listing()
        if listing is None:
            return None
        key = run_key(
            root, config, engine, require_ready, known_epics, page.read_bytes() if page else b""
        )
        prefix = root_prefix(root, cwd)
        db = connect(self.file, read_only=True)
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
                return None
            meta = db.execute("SELECT key, data FROM meta WHERE id = 1").fetchone()
            wanted = snapshot_key(key, self.rendering, prefix, listing, threads)
            if meta is None or meta[0] != wanted or not listing_holds(root, listing):
                return None
            data = json.loads(meta[1])
            files = db.execute(
                "SELECT idx, rel_path, plan_id, stamp, checked_ns, errors, warnings, infos,"
                " fixable, fragment FROM files ORDER BY idx"
            ).fetchall()
            changed = self._changed(files)
            if changed is None:
                return None
            details = {
                idx: db.execute(
                    "SELECT anchors, row, mixed FROM files WHERE idx = ?", (idx,)
                ).fetchone()
                for idx in changed
            }
        finally:
            db.close()
        reads = _Reads(data["reads"])
        for rel, value in reads.paths.items():
            if (root / rel).exists() != value:
                return None
        parts = [row[9] for row in files]
        counts = [row[5:9] for row in files]
        if changed:
            run = _Run(config, engine, page, key, prefix, require_ready, threads, cwd, known_epics)
            redone = self._recheck(run, store, files, changed, details, reads)
            if redone is None:
                return None
            for idx, (fragment, numbers, _slot, _digest) in redone.items():
                parts[idx], counts[idx] = fragment, numbers
            self._update(redone, reads)
        totals = {name: sum(c[i] for c in counts) for i, name in enumerate(_COUNTED)}
        plans_checked = int(data["plans_checked"])
        result = CheckResult(plans_checked=plans_checked)
        result.rendered = (
            self.rendering.document(parts, plans_checked, totals),
            totals.get("error", 0),
        )
        return result

    def _changed(self, files: list[tuple[Any, ...]]) -> list[int] | None:
        """The rows of plan files changed since (racily clean ones included); None when a
        file is gone or too many changed."""
        base = f"{self.root}{os.sep}"
        changed: list[int] = []
        for idx, rel, pid, stamp, checked, *_ in files:
            if stamp is None:
                continue  # a path with findings that is not a plan file
            try:
                st = os.stat(base + rel)
            except OSError:
                return None
            if _stamp(st) != stamp or checked - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
                if pid is None:
                    return None
                changed.append(idx)
                if len(changed) > MAX_CHANGED:
                    return None
        return changed

    def _recheck(
        self,
        run: _Run,
        store: FindingsCache,
        files: list[tuple[Any, ...]],
        changed: list[int],
        details: dict[int, tuple[str, str, int]],
        reads: _Reads,
    ) -> _Redone | None:
        """Check the changed plans again; None when that could change another file's output."""
        root, config = self.root, run.config
        cache = PlanCache(root)
        handbook = Handbook(root=root, config=config, catalog_path=run.page, errors=[])
        rel_of = {row[2]: row[1] for row in files if row[2] is not None}
        by_id = _LazySlots(handbook, rel_of, cache)
        world = _LazyWorld(root, config, cache, by_id, frozenset(rel_of), run.threads)
        checker = Checker(
            run.engine,
            world,
            store,
            run.key,
            {},
            run.cwd,
            run.prefix,
            require_ready=run.require_ready,
            known_epics=run.known_epics,
        )
        targets = [by_id[files[idx][2]] for idx in changed]
        if any(s.outcome is not None or s.stamp is None for s in targets):
            return None  # unreadable now, or too large: the full check reports it
        build_plans(config, targets, cache)
        plans = [s.outcome for s in targets if isinstance(s.outcome, Plan)]
        if len(plans) != len(targets):
            return None
        apply_conventions(plans, config)
        checker.note(targets)
        for idx, slot in zip(changed, targets, strict=True):
            digest, row, mixed = details[idx]
            if mixed or slot.plan_id in reads.plans or checker.rows[slot.plan_id] != row:
                return None
            if world.anchor_digests[slot.plan_id] != digest and slot.plan_id in reads.anchors:
                return None
        redone: _Redone = {}
        for idx, slot in zip(changed, targets, strict=True):
            shown = _shown(run.prefix, slot.rel_path, slot.path, run.cwd)
            pid = slot.plan_id
            checker.lint(slot, final=True)
            findings = sorted(checker.checked[slot.rel_path], key=sort_key)
            if any(f.path != shown for f in findings):
                return None
            reads.add(checker.deps[slot.rel_path])
            digest = world.anchor_digests[pid]
            redone[idx] = (self.rendering.fragment(findings), _counts(findings), slot, digest)
        store.commit([])
        cache.used.update(s.key for s in targets)
        cache.commit()
        return redone

    def _update(self, redone: _Redone, reads: _Reads) -> None:
        """Write the re-checked plans' rows; a failure leaves the snapshot as it was."""
        with contextlib.suppress(OSError, sqlite3.Error):
            db = open_for_writing(self.root, SNAPSHOT_FILE, corrupt=False)
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(
                        "UPDATE files SET stamp = ?, checked_ns = ?, anchors = ?, errors = ?,"
                        " warnings = ?, infos = ?, fixable = ?, fragment = ? WHERE idx = ?",
                        (
                            (
                                _stamp_of(slot),
                                slot.checked_ns,
                                digest,
                                *numbers,
                                fragment,
                                idx,
                            )
                            for idx, (fragment, numbers, slot, digest) in redone.items()
                        ),
                    )
                    old = json.loads(db.execute("SELECT data FROM meta WHERE id = 1").fetchone()[0])
                    old["reads"] = reads.data()
                    db.execute("UPDATE meta SET data = ? WHERE id = 1", (json.dumps(old),))
            finally:
                db.close()

    # --- writing it ----------------------------------------------------------------------------

    def save(
        self,
        *,
        key: str,
        prefix: str | None,
        cwd: Path | None,
        listing: str | None,
        threads: Mapping[str, int],
        slots: list[PlanFile],
        digests: Mapping[str, str],
        rows: Mapping[str, str],
        deps: Mapping[str, str | list[list[Any]]],
        result: CheckResult,
    ) -> tuple[str, int] | None:
        """Keep the result of a full check (its findings sorted) and return its output, or
        None when the snapshot cannot hold this handbook (the caller writes the output)."""
        if result.files_unreadable or listing is None:
            return None
        slot_at: dict[str, PlanFile] = {}
        for slot in slots:
            if not isinstance(slot.outcome, Plan | None) or slot.stamp is None:
                return None
            if slot.path.name.lower() == "readme.md" and (slot.path.parent / KEP_METADATA).exists():
                return None  # its front matter comes from a file no stamp covers
            slot_at[_shown(prefix, slot.rel_path, slot.path, cwd)] = slot
        found: dict[str, list[Finding]] = {}
        for f in result.findings:
            found.setdefault(f.path, []).append(f)
        reads = _Reads()
        rows_out: list[tuple[Any, ...]] = []
        parts: list[str] = []
        for idx, shown in enumerate(sorted(slot_at.keys() | found.keys())):
            owner = slot_at.get(shown)
            findings = found.get(shown, [])
            fragment = self.rendering.fragment(findings)
            parts.append(fragment)
            if owner is None:
                rows_out.append((idx, None, None, None, 0, "", "", 1, *_counts(findings), fragment))
                continue
            stored = deps.get(owner.rel_path)
            if stored is None:
                return None  # not checked: cannot be kept
            reads.add(json.loads(stored) if isinstance(stored, str) else stored)
            rows_out.append(
                (
                    idx,
                    owner.rel_path,
                    owner.plan_id,
                    _stamp_of(owner),
                    owner.checked_ns,
                    digests.get(owner.plan_id, ""),
                    rows.get(owner.plan_id, ""),
                    int(any(f.plan != owner.plan_id for f in findings)),
                    *_counts(findings),
                    fragment,
                )
            )
        totals = result.counts()
        counts = {k: totals.get(k, 0) for k in _COUNTED}
        counts["fixable"] = sum(1 for f in result.findings if f.fixable)
        text = self.rendering.document(parts, result.plans_checked, counts)
        if self.enabled:
            data = {"plans_checked": result.plans_checked, "reads": reads.data()}
            with contextlib.suppress(OSError, sqlite3.Error):
                self._write(
                    snapshot_key(key, self.rendering, prefix, listing, threads), data, rows_out
                )
        return text, counts["error"]

    def _write(self, key: str, data: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
        db = open_for_writing(self.root, SNAPSHOT_FILE, corrupt=False)
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("DROP TABLE IF EXISTS meta")
                db.execute("DROP TABLE IF EXISTS files")
                db.execute("PRAGMA user_version = 0")
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                db.execute("INSERT INTO meta VALUES (1, ?, ?)", (key, json.dumps(data)))
                db.executemany(
                    "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
        finally:
            db.close()


def _stamp_of(slot: PlanFile) -> str:
    stamp = slot.stamp
    assert stamp is not None
    return f"{stamp.size}:{stamp.mtime_ns}:{stamp.ctime_ns}:{stamp.ino}"
