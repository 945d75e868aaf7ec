"""The last whole-handbook check as its output, file by file: ``.secplan/cache/check.sqlite3``.

A check of a big handbook where one plan was edited should cost that plan, not the handbook.
The findings cache (:mod:`secplan.lint.incremental`) already avoids rebuilding and re-linting
unchanged plans, but it still looks at every plan in Python (its row, its reads, its findings,
then the sort and the encoding of all of them). The snapshot keeps the last run's *output*
instead: one row per file in output order with its ``stat`` stamp, the text of its findings in
the run's format, and their counts. A later run with the same inputs ``stat``s the files,
re-checks the few that changed and puts their new texts in (the file's layout:
:mod:`secplan.lint.snapshot_store`).

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
from secplan.handbook.cache import PlanCache, safe_location
from secplan.handbook.conventions import apply_conventions
from secplan.handbook.files import CATALOG_NAMES
from secplan.handbook.kep import KEP_METADATA
from secplan.handbook.listing import dirs_hold
from secplan.handbook.loader import Handbook, PlanFile, build_plans, scan_files
from secplan.lint import snapshot_store as stored_file
from secplan.lint.engine import CheckResult, Engine, _shown, root_prefix, sort_key
from secplan.lint.findings_cache import FindingsCache
from secplan.lint.incremental import Checker, World, anchors_digest, run_key
from secplan.lint.registry import Finding
from secplan.lint.snapshot_store import SNAPSHOT_FILE, Chunk, Counts, Entry, Patch, stamp_text
from secplan.model import Plan

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

    def piece(self, findings: list[Finding]) -> bytes:
        """One file's part of the output, UTF-8 (a JSON piece ends with its separator)."""
        if not findings:
            return b""
        if self.fmt == "json":
            from secplan.lint.formats.json_format import encode_items

            return encode_items(findings).encode() + b",\n"
        from secplan.lint.formats.text import line_of

        return "".join([line_of(f, self.colour) for f in findings]).encode()

    def document(
        self, body: list[Chunk], plans_checked: int, counts: Mapping[str, int]
    ) -> list[Chunk]:
        """The whole output from the files' pieces in order (``counts``: by severity, and
        ``fixable``), as UTF-8 chunks: what the format's writer writes for the same findings."""
        if self.fmt == "json":
            filled = [i for i, chunk in enumerate(body) if len(chunk)]
            if not filled:
                return [b"[]\n"]
            last = filled[-1]  # drop the last piece's separator
            return [b"[\n", *body[:last], memoryview(body[last])[:-2], b"\n]\n"]
        from secplan.lint.formats.text import summary_of

        severities = {k: v for k, v in counts.items() if k != "fixable"}
        summary = summary_of(plans_checked, severities, fixed=0, fixable=counts["fixable"])
        return [*body, "".join(line + "\n" for line in summary).encode()]


def _counts(findings: list[Finding]) -> Counts:
    sev = [f.severity for f in findings]
    fixable = sum(1 for f in findings if f.fixable)
    return sev.count("error"), sev.count("warning"), sev.count("info"), fixable


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def snapshot_key(
    key: str, rendering: Rendering, prefix: str | None, threads: Mapping[str, int]
) -> str:
    """The inputs of a run beyond its files: the findings' run key, the output, the threads."""
    return _digest(key, rendering.name, repr(prefix), json.dumps(sorted(threads.items())))


class _Reads:
    """What the rules of all plans read, as far as a changed plan can matter to the others."""

    def __init__(self, paths: Mapping[str, Any], other: Mapping[str, Any]) -> None:
        self.paths: dict[str, Any] = dict(paths)  # files asked about, and whether they existed
        self.plans: set[str] = set(other.get("plans", ()))  # read whole
        self.anchors: set[str] = set(other.get("anchors", ()))  # anchors read

    def add(self, deps: list[list[Any]]) -> None:
        for kind, key, value in deps:
            if kind == "plan":
                self.plans.add(key)
            elif kind == "anchors":
                self.anchors.add(key)
            elif kind == "path":
                self.paths[key] = value

    def stored(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.paths, {"plans": sorted(self.plans), "anchors": sorted(self.anchors)}


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
        root = self.root
        page = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
        try:
            key = run_key(
                root, config, engine, require_ready, known_epics, page.read_bytes() if page else b""
            )
            prefix = root_prefix(root, cwd)
            run = _Run(
                config, engine, page, key, prefix, require_ready, open_threads, cwd, known_epics
            )
            wanted = snapshot_key(key, self.rendering, prefix, open_threads)
            snapshot = stored_file.read(self.file, wanted)
            if snapshot is None or not dirs_hold(root, snapshot.data["listing"]):
                return None  # another run's, or a file may have come or gone
            return self._answer(run, snapshot)
        except (sqlite3.Error, OSError, ValueError, TypeError, KeyError, IndexError):
            return None  # a damaged or vanished snapshot: the full check answers

    def _answer(self, run: _Run, snapshot: stored_file.Stored) -> CheckResult | None:
        data = snapshot.data
        changed = self._changed(snapshot)
        if changed is None:
            return None
        for rel, value in snapshot.paths.items():
            if (self.root / rel).exists() != value:
                return None
        totals = [int(n) for n in data["totals"]]
        replaced: dict[int, bytes] = {}
        if changed:
            reads = _Reads(snapshot.paths, snapshot.reads())
            details = stored_file.details(self.file, changed)
            patches = self._recheck(run, snapshot, details, reads)
            if patches is None:
                return None
            for idx, new in patches.items():
                replaced[idx] = new.piece
                for i, (old, now) in enumerate(zip(details[idx].counts, new.counts, strict=True)):
                    totals[i] += now - old
            data = {**data, "totals": totals}
            with contextlib.suppress(OSError, sqlite3.Error):
                stored_file.patch(self.root, data, reads.stored(), patches)
        counts = dict(zip(_COUNTED, totals, strict=True))
        plans_checked = int(data["plans_checked"])
        result = CheckResult(plans_checked=plans_checked)
        chunks = self.rendering.document(snapshot.body(replaced), plans_checked, counts)
        result.rendered = (chunks, counts["error"])
        return result

    def _changed(self, snapshot: stored_file.Stored) -> list[int] | None:
        """The plan files changed since (racily clean ones included); None when a file is
        gone or too many changed."""
        base = f"{self.root}{os.sep}"
        now = []
        for rel in snapshot.rels:
            if not rel:
                now.append("")  # a path with findings that is no plan file
                continue
            st = os.stat(base + rel)
            now.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}")
        if now == snapshot.stamps:
            return []
        changed = [i for i, (a, b) in enumerate(zip(now, snapshot.stamps, strict=True)) if a != b]
        return changed if len(changed) <= MAX_CHANGED else None

    def _recheck(
        self,
        run: _Run,
        snapshot: stored_file.Stored,
        details: dict[int, stored_file.Detail],
        reads: _Reads,
    ) -> dict[int, Patch] | None:
        """Check the changed plans again; None when that could change another file's output."""
        root, config = self.root, run.config
        cache = PlanCache(root)
        handbook = Handbook(root=root, config=config, catalog_path=run.page, errors=[])
        rel_of = {pid: rel for pid, rel in zip(snapshot.pids, snapshot.rels, strict=True) if rel}
        by_id = _LazySlots(handbook, rel_of, cache)
        world = _LazyWorld(root, config, cache, by_id, frozenset(rel_of), run.threads)
        # The findings cache and the parse cache are not written: the snapshot alone now knows
        # these plans' results, and a full check would re-check just them (one write, not
        # three, and a check of an unchanged handbook writes nothing).
        checker = Checker(
            run.engine,
            world,
            FindingsCache(root, enabled=False),
            run.key,
            {},
            run.cwd,
            run.prefix,
            require_ready=run.require_ready,
            known_epics=run.known_epics,
        )
        targets = {idx: by_id[snapshot.pids[idx]] for idx in details}
        if any(
            not s.rel_path or s.outcome is not None or s.stamp is None for s in targets.values()
        ):
            return None  # no plan file, unreadable now or too large: the full check reports it
        build_plans(config, list(targets.values()), cache)
        plans = [s.outcome for s in targets.values() if isinstance(s.outcome, Plan)]
        if len(plans) != len(targets):
            return None
        apply_conventions(plans, config)
        checker.note(list(targets.values()))
        for idx, slot in targets.items():
            old = details[idx]
            pid = slot.plan_id
            if old.mixed or pid in reads.plans or checker.rows[pid] != old.row:
                return None
            if world.anchor_digests[pid] != old.anchors and pid in reads.anchors:
                return None
        patches: dict[int, Patch] = {}
        for idx, slot in targets.items():
            assert slot.stamp is not None
            shown = _shown(run.prefix, slot.rel_path, slot.path, run.cwd)
            digest = world.anchor_digests[slot.plan_id]
            checker.lint(slot, final=True)
            findings = sorted(checker.checked[slot.rel_path], key=sort_key)
            if any(f.path != shown for f in findings):
                return None
            reads.add(checker.deps[slot.rel_path])
            patches[idx] = Patch(
                stamp_text(slot.stamp, slot.checked_ns),
                digest,
                _counts(findings),
                self.rendering.piece(findings),
            )
        return patches

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
    ) -> tuple[list[Chunk], int] | None:
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
        reads = _Reads({}, {})
        entries: list[Entry] = []
        for shown in sorted(slot_at.keys() | found.keys()):
            owner = slot_at.get(shown)
            findings = found.get(shown, [])
            piece, counts = self.rendering.piece(findings), _counts(findings)
            if owner is None:
                entries.append(Entry("", "", "", "", "", True, counts, piece))
                continue
            stored = deps.get(owner.rel_path)
            if stored is None or owner.stamp is None:
                return None  # not checked: cannot be kept
            reads.add(json.loads(stored) if isinstance(stored, str) else stored)
            entries.append(
                Entry(
                    owner.rel_path,
                    owner.plan_id,
                    stamp_text(owner.stamp, owner.checked_ns),
                    digests.get(owner.plan_id, ""),
                    rows.get(owner.plan_id, ""),
                    any(f.plan != owner.plan_id for f in findings),
                    counts,
                    piece,
                )
            )
        totals = [sum(e.counts[i] for e in entries) for i in range(len(_COUNTED))]
        counts_by = dict(zip(_COUNTED, totals, strict=True))
        text = self.rendering.document([e.piece for e in entries], result.plans_checked, counts_by)
        if self.enabled:
            walked = json.loads(listing)
            data = {
                "plans_checked": result.plans_checked,
                "totals": totals,
                "listing": {k: walked[k] for k in ("version", "checked_ns", "dirs")},
            }
            wanted = snapshot_key(key, self.rendering, prefix, threads)
            with contextlib.suppress(OSError, sqlite3.Error):
                stored_file.write(self.root, wanted, data, reads.stored(), entries)
        return text, counts_by["error"]
