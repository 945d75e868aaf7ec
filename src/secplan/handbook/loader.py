"""Load a handbook: every plan file parsed once, unchanged ones from the parse cache."""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from secplan.config import Config, load_config
from secplan.errors import NotFoundError
from secplan.handbook.cache import FileStamp, PlanCache, cache_key, now_ns
from secplan.handbook.conventions import apply_conventions
from secplan.handbook.files import (
    CATALOG_NAMES,
    DIR_PLAN_NAMES,
    MAX_FILE_BYTES,
    PLAN_SUFFIXES,
    SKIP_DIRS,
    FileError,
    decode_plan,
    discover,
    find_plan_files,
    inside,
    is_plan_name,
    plan_id,
    read_error,
    read_plan_bytes,
    read_plan_text,
    real_path,
    rel_path_of,
    resolve_plan_path,
    selected,
    stat_error,
)
from secplan.handbook.parallel import (
    CHUNK,
    ParseJob,
    parse_job,
    parse_parallel,
    plan_json,
    worker_count,
)
from secplan.handbook.serialize import plan_from_data
from secplan.model import Plan

__all__ = [  # what other modules import from here
    "CATALOG_NAMES",
    "MAX_FILE_BYTES",
    "PLAN_SUFFIXES",
    "SKIP_DIRS",
    "FileError",
    "Handbook",
    "decode_plan",
    "find_plan_files",
    "is_plan_name",
    "load_handbook",
    "plan_id",
    "read_plan_bytes",
    "read_plan_text",
    "resolve_plan_path",
]

#: From this many plan files on, the loaded plans are moved out of the collector's sight.
FREEZE_MIN_FILES = 1000
#: The bytes read for hashing are kept for the parse up to this much in all; files beyond it
#: are read again when parsed, so a cold load never holds every file's text at once.
KEEP_BYTES = 8 << 20


@dataclass
class Handbook:
    """Every plan of a handbook, in path order."""

    root: Path
    config: Config
    plans: list[Plan] = field(default_factory=list)
    catalog_path: Path | None = None
    errors: list[FileError] = field(default_factory=list)
    #: The plans' catalog rows by plan id, when the catalog is to be judged without the plans
    #: themselves (the whole-handbook check drops each plan once it is checked).
    catalog_rows: dict[str, str] | None = field(default=None, repr=False, compare=False)

    _index: dict[str, Plan] = field(default_factory=dict, init=False, repr=False, compare=False)
    _index_key: tuple[int, int] = field(default=(0, -1), init=False, repr=False, compare=False)

    def get(self, ref: str) -> Plan | None:
        """A plan by id (``security-enclave``) or by file path (relative to root or cwd)."""
        by_id = self._by_id_cached()
        ref = ref.strip()
        trimmed = ref.strip("/")
        for key in (ref, trimmed):
            if key in by_id:
                return by_id[key]
        given = Path(ref)
        candidates = [given] if given.is_absolute() else [self.root / ref, Path.cwd() / ref]
        root_real = real_path(self.root)
        for candidate in candidates:
            real = real_path(candidate)
            if real.is_dir():
                real = next((real / n for n in DIR_PLAN_NAMES if (real / n).is_file()), real)
            if not inside(real, root_real) or real == root_real:
                continue
            plan = by_id.get(plan_id(real.relative_to(root_real).as_posix()))
            if plan is not None:
                return plan
        # "security-enclave.md" written as an id.
        return by_id.get(plan_id(trimmed)) if trimmed.endswith(".md") else None

    def by_id(self) -> dict[str, Plan]:
        """Plans keyed by id."""
        return {p.id: p for p in self.plans}

    def _by_id_cached(self) -> dict[str, Plan]:
        # Rebuilt when the plan list is replaced or grows, so get() in a loop stays O(1).
        key = (id(self.plans), len(self.plans))
        if key != self._index_key:
            self._index = self.by_id()
            self._index_key = key
        return self._index


@dataclass
class PlanFile:
    """One plan file on its way through a load: where it is, its content key, its outcome."""

    path: Path
    rel_path: str
    plan_id: str
    digest: str = ""
    key: str = ""  # the parse cache's entry key (content hash, parser version, options)
    data: bytes | None = None  # the bytes, when they had to be read
    outcome: Plan | FileError | None = None
    stamp: FileStamp | None = None  # what ``stat`` said before the file was hashed
    checked_ns: int = 0  # when it said so


def _hash_files(slots: list[PlanFile], cache: PlanCache) -> None:
    """Content hashes: from the index when ``stat`` proves a file unchanged, else from its bytes."""
    index = cache.index([s.rel_path for s in slots])
    kept = 0
    for slot in slots:
        checked = now_ns()
        try:
            st = os.stat(slot.path)
        except OSError as exc:
            slot.outcome = read_error(slot.path, slot.rel_path, exc)
            continue
        problem = stat_error(slot.path, slot.rel_path, st)
        if problem is not None:
            slot.outcome = problem
            continue
        stamp = slot.stamp = FileStamp.of(st)
        slot.checked_ns = checked
        known = cache.known_hash(index.get(slot.rel_path), stamp)
        if known is not None:
            slot.digest = known
            continue
        try:
            slot.data = slot.path.read_bytes()
        except OSError as exc:
            slot.outcome = read_error(slot.path, slot.rel_path, exc)
            continue
        slot.digest = hashlib.sha256(slot.data).hexdigest()
        if len(slot.data) == stamp.size:  # otherwise it changed while being read
            cache.record(slot.rel_path, stamp, slot.digest, checked)
        kept += len(slot.data)
        if kept > KEEP_BYTES:
            slot.data = None  # read again when parsed (and hashed again: the bytes decide)


def _parse_options(config: Config) -> tuple[str, str | None, str | None]:
    return (config.anchor_flavour, config.tracker, config.group)


def _file_id(path: Path) -> tuple[int, int] | None:
    """The file's device and inode (symbolic links followed): the same file, however named."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def scan_files(
    handbook: Handbook, files: list[Path], catalog: Path | None, cache: PlanCache
) -> list[PlanFile]:
    """One :class:`PlanFile` per file with its content key, nothing parsed or rebuilt yet.

    Files that cannot be plans (unreadable, too large, a duplicate plan id) get a
    :class:`FileError` as their outcome.
    """
    root, options = handbook.root, _parse_options(handbook.config)
    catalog_id = _file_id(catalog) if catalog is not None else None
    seen: dict[str, str] = {}
    slots: list[PlanFile] = []
    for path in files:
        if catalog_id is not None and path.name in CATALOG_NAMES and _file_id(path) == catalog_id:
            continue  # the catalog page, named some other way
        rel_path = rel_path_of(root, path)
        pid = plan_id(rel_path)
        if pid in seen:
            if seen[pid] != rel_path:
                message = f"plan id '{pid}' is already taken by {seen[pid]}; rename one of them"
                slots.append(
                    PlanFile(
                        path, rel_path, pid, outcome=FileError(path, rel_path, "SP100", message)
                    )
                )
            continue
        seen[pid] = rel_path
        slots.append(PlanFile(path, rel_path, pid))
    todo = [s for s in slots if s.outcome is None]
    _hash_files(todo, cache)
    for slot in todo:
        if slot.outcome is None:
            slot.key = cache_key(slot.digest, *options)
    return slots


#: What :func:`build_plans` hands its ``on_built`` callback: slots that have their outcome.
OnBuilt = Callable[[list["PlanFile"]], None]


def build_plans(
    config: Config,
    slots: list[PlanFile],
    cache: PlanCache,
    jobs: int | None = None,
    *,
    on_built: OnBuilt | None = None,
    batch: int = 256,
) -> None:
    """Give every scanned slot without an outcome its plan: from the cache, else parsed.

    With ``on_built``, the slots are handed to it about ``batch`` at a time as soon as they
    have their outcome (cache hits first, then parsed ones, each in path order), while
    worker processes go on parsing; the callback may drop the plans it was given.
    """
    options = _parse_options(config)
    todo = [s for s in slots if s.outcome is None]
    for slot in todo:
        cache.used.add(slot.key)
    size = batch if on_built is not None and batch > 0 else max(len(todo), 1)
    to_parse: list[PlanFile] = []
    for i in range(0, len(todo), size):
        part = todo[i : i + size]
        stored = cache.entries([s.key for s in part])
        hits: list[PlanFile] = []
        for slot in part:
            # get, not pop: files with the same bytes (a copied template) share one entry.
            plan = cache.plan(
                stored.get(slot.key),
                plan_id=slot.plan_id,
                path=slot.path,
                rel_path=slot.rel_path,
            )
            if plan is not None:
                slot.outcome = plan
                hits.append(slot)
            else:
                to_parse.append(slot)
        del stored
        if hits and on_built is not None:
            on_built(hits)
    _parse(to_parse, cache, options, jobs, on_built, size)


def _job(
    slot: PlanFile, cache: PlanCache, options: tuple[str, str | None, str | None]
) -> ParseJob | None:
    """The slot's parse job, its bytes read now when they were not kept; None (the slot's
    outcome a :class:`FileError`) when they cannot be read or decoded."""
    if slot.data is None:
        try:
            slot.data = slot.path.read_bytes()
        except OSError as exc:
            slot.outcome = read_error(slot.path, slot.rel_path, exc)
            return None
        digest = hashlib.sha256(slot.data).hexdigest()
        if digest != slot.digest:  # changed since it was hashed (or the index was stale)
            slot.digest, slot.key = digest, cache_key(digest, *options)
            cache.used.add(slot.key)
    text = decode_plan(slot.data, slot.path, slot.rel_path)
    slot.data = None
    if isinstance(text, FileError):
        slot.outcome = text
        return None
    return ParseJob(text, slot.plan_id, str(slot.path), slot.rel_path, *options, slot.digest)


def _load_files(
    handbook: Handbook,
    files: list[Path],
    catalog: Path | None,
    cache: PlanCache,
    jobs: int | None,
) -> list[str]:
    """Load ``files`` into ``handbook``; returns the relative paths of the plan files seen."""
    slots = scan_files(handbook, files, catalog, cache)
    build_plans(handbook.config, slots, cache, jobs)
    for slot in slots:
        if isinstance(slot.outcome, FileError):
            handbook.errors.append(slot.outcome)
        elif isinstance(slot.outcome, Plan):
            handbook.plans.append(slot.outcome)
    return [slot.rel_path for slot in slots]


def _parse(
    slots: list[PlanFile],
    cache: PlanCache,
    options: tuple[str, str | None, str | None],
    jobs: int | None,
    on_built: OnBuilt | None = None,
    size: int = 0,
) -> None:
    """Parse every slot into its plan, in worker processes when there are many.

    Each file's text is made only when its turn comes (and dropped once parsed), so the texts
    of a big handbook are never all in memory together.
    """
    finished: set[int] = set()  # id() of the slots done (their plans may be dropped since)
    ready: list[PlanFile] = []

    def done(slot: PlanFile) -> None:
        finished.add(id(slot))
        ready.append(slot)
        if on_built is not None and len(ready) >= size:
            on_built(ready[:])
            ready.clear()

    workers = worker_count(len(slots), jobs)
    if workers > 1:
        sent: deque[list[PlanFile]] = deque()

        def chunks() -> Iterator[list[ParseJob]]:
            batch: list[PlanFile] = []
            batch_jobs: list[ParseJob] = []
            for slot in slots:
                job = _job(slot, cache, options)
                if job is None:
                    done(slot)
                    continue
                batch.append(slot)
                batch_jobs.append(job)
                if len(batch_jobs) == CHUNK:
                    sent.append(batch)
                    yield batch_jobs
                    batch, batch_jobs = [], []
            if batch_jobs:
                sent.append(batch)
                yield batch_jobs

        try:
            # Plans are rebuilt (and handed on) here while the workers parse the next chunks.
            for payloads in parse_parallel(chunks(), workers):
                for slot, payload in zip(sent.popleft(), payloads, strict=True):
                    cache.put(slot.key, payload)
                    slot.outcome = plan_from_data(
                        json.loads(payload),
                        plan_id=slot.plan_id,
                        path=slot.path,
                        rel_path=slot.rel_path,
                    )
                    done(slot)
        except (OSError, RuntimeError):  # BrokenProcessPool is a RuntimeError
            pass  # no (more) processes to be had: parse the rest here
    for slot in slots:
        if id(slot) in finished:
            continue
        slot.outcome = None  # a job sent to a pool that broke
        job = _job(slot, cache, options)
        if job is not None:
            plan = parse_job(job)
            if cache.enabled and cache.writable:
                cache.put(slot.key, plan_json(plan))
            slot.outcome = plan
        done(slot)
    if on_built is not None and ready:
        on_built(ready)


def discover_handbook(
    root: Path, config: Config | None = None, paths: Iterable[Path] | None = None
) -> tuple[Handbook, list[Path]]:
    """An empty :class:`Handbook` for ``root`` (refusals filled in) and its plan files."""
    root = root.absolute()
    if not root.is_dir():
        raise NotFoundError(f"handbook directory not found: {root}")
    config = config or load_config(root)
    if paths is None:
        files, errors, catalog = discover(root)
    else:
        files, errors = selected(root, paths)
        catalog = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
    return Handbook(root=root, config=config, catalog_path=catalog, errors=errors), files


@contextmanager
def collector_paused(files: int) -> Iterator[None]:
    """Pause the cyclic GC while plans are built; freeze them afterwards on big loads.

    Parsing allocates many small objects and creates no cycles: pausing the collector saves a
    third of the time on big handbooks without holding on to any garbage.
    """
    big = files >= FREEZE_MIN_FILES
    if big:
        gc.collect()  # so that no one else's cyclic garbage is frozen below
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if big:
            # Millions of long-lived, acyclic plan objects: every full collection afterwards
            # would walk them all (about a third of a warm check of 10,000 plans). Frozen, the
            # collector skips them; they are still freed by reference counting when dropped.
            # Frozen *before* the collector is enabled again: enabled first, the next
            # allocation could start a full collection over all of them.
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


def load_handbook(
    root: Path,
    config: Config | None = None,
    paths: Iterable[Path] | None = None,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
) -> Handbook:
    """Load the handbook at ``root``; ``paths`` limits parsing to those files/directories.

    Files that cannot be read as plans become :class:`FileError` entries; the others still
    load. Unchanged files come from the parse cache under ``<root>/.secplan/cache``
    (``use_cache=False`` or the environment variable ``SECPLAN_NO_CACHE`` turn it off).
    Files that must be parsed are parsed in ``jobs`` processes (default: every core when
    there are hundreds of files, else this one; ``SECPLAN_JOBS`` overrides); the result is
    the same either way.
    """
    handbook, files = discover_handbook(root, config, paths)
    cache = PlanCache(handbook.root, enabled=use_cache)
    with collector_paused(len(files)):
        seen = _load_files(handbook, files, handbook.catalog_path, cache, jobs)
        handbook.plans.sort(key=lambda p: p.rel_path)
        apply_conventions(handbook.plans, handbook.config)
    # Only a whole-handbook load knows which entries are stale.
    cache.commit(present=seen if paths is None else None)
    return handbook
