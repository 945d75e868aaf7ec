"""Discover plan files under a handbook root and parse each one once (cached by content hash)."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import stat
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from secplan.config import Config, load_config
from secplan.errors import NotFoundError, UsageError
from secplan.handbook.cache import FileStamp, PlanCache, cache_key, now_ns
from secplan.handbook.parallel import (
    ParseJob,
    parse_job,
    parse_parallel,
    plan_json,
    worker_count,
)
from secplan.handbook.serialize import plan_from_data
from secplan.model import Plan

CATALOG_NAMES = ("index.md", "_index.md", "index.html.md")
PLAN_SUFFIXES = (".html.md", ".md")
_DIR_PLAN_NAMES = ("index.md", "index.html.md")
#: Directories never searched for plans (besides every hidden directory).
SKIP_DIRS = frozenset({".secplan", ".git", "node_modules"})
#: Files larger than this are refused (SP100) rather than parsed.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: From this many plan files on, the loaded plans are moved out of the collector's sight.
FREEZE_MIN_FILES = 1000


@dataclass
class FileError:
    """A file that could not be read as a plan at all (binary, bad UTF-8, too large...)."""

    path: Path
    rel_path: str
    code: str  # rule code, e.g. SP106 / SP100
    message: str
    line: int = 1
    column: int = 1


@dataclass
class Handbook:
    """Every plan of a handbook, in path order."""

    root: Path
    config: Config
    plans: list[Plan] = field(default_factory=list)
    catalog_path: Path | None = None
    errors: list[FileError] = field(default_factory=list)

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
        root_real = _real(self.root)
        for candidate in candidates:
            real = _real(candidate)
            if real.is_dir():
                real = next((real / n for n in _DIR_PLAN_NAMES if (real / n).is_file()), real)
            if not _inside(real, root_real) or real == root_real:
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


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def plan_id(rel_path: str) -> str:
    """The plan id of a root-relative POSIX path: no extension, no trailing ``/index``."""
    for suffix in PLAN_SUFFIXES:
        if rel_path.endswith(suffix):
            rel_path = rel_path[: -len(suffix)]
            break
    if rel_path == "index":
        return rel_path
    return rel_path.removesuffix("/index")


def is_plan_name(name: str) -> bool:
    """Whether a file name is a Markdown plan file."""
    return name.endswith(".md") and not name.startswith(".")


def resolve_plan_path(root: Path, ref: str) -> Path | None:
    """The file a plan id or path names, found without reading the handbook; None if none."""
    ref = ref.strip()
    direct = Path(ref)
    for candidate in (
        (direct, root / ref, Path.cwd() / ref) if not direct.is_absolute() else [direct]
    ):
        if candidate.is_file():
            return candidate
    stem = ref.strip("/")
    for suffix in ("/index.md", "/index.html.md", ".md", ".html.md"):
        candidate = root / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _discover(
    root: Path, start: Path | None = None
) -> tuple[list[Path], list[FileError], Path | None]:
    """Plan files under ``start`` (default: root), refusals, and the root's catalog page."""
    root_real = _real(root)
    files: list[Path] = []
    errors: list[FileError] = []
    catalog = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
    # Depth first in name order, as os.walk(followlinks=False) goes, but with scandir's
    # cached entry types: one system call per directory instead of one per file.
    pending = [start or root]
    while pending:
        base = pending.pop()
        try:
            with os.scandir(base) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                sub = base / name
                if entry.is_symlink():
                    if not _inside(_real(sub), root_real):
                        errors.append(_escape_error(root, sub))
                    continue  # symlinked directories inside the root would list plans twice
                subdirs.append(sub)
                continue
            if not is_plan_name(name):
                continue
            if catalog is not None and name == catalog.name and base == root:
                continue
            path = base / name
            if entry.is_symlink() and not _inside(_real(path), root_real):
                errors.append(_escape_error(root, path))
                continue
            files.append(path)
        pending.extend(reversed(subdirs))
    files.sort(key=lambda p: _rel(root, p))
    return files, errors, catalog


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _rel(root: Path, path: Path) -> str:
    if os.sep == "/":  # the common case without pathlib's part-by-part comparison
        prefix, text = str(root), str(path)
        if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1] == "/":
            return text[len(prefix) + 1 :]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # one side was reached through a symbolic link (e.g. a temp dir alias)
        return _real(path).relative_to(_real(root)).as_posix()
    except ValueError:
        return path.as_posix()


def _escape_error(root: Path, path: Path) -> FileError:
    return FileError(
        path,
        _rel(root, path),
        "SP100",
        "symbolic link points outside the handbook; it is not followed",
    )


def find_plan_files(root: Path) -> list[Path]:
    """Every plan file under ``root`` (catalog page excluded), sorted."""
    return _discover(root)[0]


def read_plan_bytes(path: Path, rel_path: str) -> bytes | FileError:
    """A plan file's bytes, or the FileError saying why it cannot be read (missing, > 10 MB)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            return FileError(path, rel_path, "SP100", "not a regular file")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            message = f"file is {size / 1024 / 1024:.1f} MB; plans larger than 10 MB are refused"
            return FileError(path, rel_path, "SP100", message)
        return path.read_bytes()
    except OSError as exc:
        return FileError(path, rel_path, "SP100", f"cannot read file: {exc.strerror or exc}")


def decode_plan(data: bytes, path: Path, rel_path: str) -> str | FileError:
    """The text of a plan file's bytes, or a FileError for binary data or invalid UTF-8."""
    if b"\0" in data:
        return FileError(
            path, rel_path, "SP100", "binary file (contains NUL bytes), not a Markdown plan"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        return FileError(path, rel_path, "SP100", message, line=line)


def read_plan_text(path: Path, rel_path: str) -> tuple[str, str] | FileError:
    """(text, sha256 of the bytes) of a plan file, or the FileError saying why it is unusable."""
    data = read_plan_bytes(path, rel_path)
    if isinstance(data, FileError):
        return data
    text = decode_plan(data, path, rel_path)
    if isinstance(text, FileError):
        return text
    return text, hashlib.sha256(data).hexdigest()


def _selected(root: Path, paths: Iterable[Path]) -> tuple[list[Path], list[FileError]]:
    root_real = _real(root)
    files: list[Path] = []
    errors: list[FileError] = []
    for given in paths:
        path = given if given.is_absolute() else Path.cwd() / given
        if not path.exists() and not path.is_symlink():
            raise NotFoundError(f"no such file or directory: {given}")
        if not _inside(
            _real(path.parent) / path.name if path.is_symlink() else _real(path), root_real
        ):
            raise UsageError(
                f"{given} is not inside the handbook at {root}",
                hint="Pass --root to name the handbook the file belongs to.",
            )
        if path.is_dir():
            found, errs, _ = _discover(root, path)
            files.extend(found)
            errors.extend(errs)
        elif path.is_symlink() and not _inside(_real(path), root_real):
            errors.append(_escape_error(root, path))
        else:
            files.append(path)
    return files, errors


def _stat_error(path: Path, rel_path: str, st: os.stat_result) -> FileError | None:
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        return FileError(path, rel_path, "SP100", "not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        message = f"file is {st.st_size / 1024 / 1024:.1f} MB; plans larger than 10 MB are refused"
        return FileError(path, rel_path, "SP100", message)
    return None


def _read_error(path: Path, rel_path: str, exc: OSError) -> FileError:
    return FileError(path, rel_path, "SP100", f"cannot read file: {exc.strerror or exc}")


@dataclass
class _Slot:
    """One plan file on its way through the load."""

    path: Path
    rel_path: str
    plan_id: str
    digest: str = ""
    key: str = ""
    data: bytes | None = None  # the bytes, when they had to be read
    outcome: Plan | FileError | ParseJob | None = None


def _hash_files(slots: list[_Slot], cache: PlanCache) -> None:
    """Content hashes: from the index when ``stat`` proves a file unchanged, else from its bytes."""
    index = cache.index([s.rel_path for s in slots])
    for slot in slots:
        checked = now_ns()
        try:
            st = os.stat(slot.path)
        except OSError as exc:
            slot.outcome = _read_error(slot.path, slot.rel_path, exc)
            continue
        problem = _stat_error(slot.path, slot.rel_path, st)
        if problem is not None:
            slot.outcome = problem
            continue
        stamp = FileStamp.of(st)
        known = cache.known_hash(index.get(slot.rel_path), stamp)
        if known is not None:
            slot.digest = known
            continue
        try:
            slot.data = slot.path.read_bytes()
        except OSError as exc:
            slot.outcome = _read_error(slot.path, slot.rel_path, exc)
            continue
        slot.digest = hashlib.sha256(slot.data).hexdigest()
        if len(slot.data) == stamp.size:  # otherwise it changed while being read
            cache.record(slot.rel_path, stamp, slot.digest, checked)


def _load_files(
    handbook: Handbook,
    files: list[Path],
    catalog: Path | None,
    cache: PlanCache,
    jobs: int | None,
) -> list[str]:
    """Load ``files`` into ``handbook``; returns the relative paths of the plan files seen."""
    root, config = handbook.root, handbook.config
    options = (config.anchor_flavour, config.tracker, config.group)
    catalog_real = _real(catalog) if catalog is not None else None
    seen: dict[str, str] = {}
    slots: list[_Slot] = []
    for path in files:
        if catalog_real is not None and path.name in CATALOG_NAMES and _real(path) == catalog_real:
            continue
        rel_path = _rel(root, path)
        pid = plan_id(rel_path)
        if pid in seen:
            if seen[pid] != rel_path:
                message = f"plan id '{pid}' is already taken by {seen[pid]}; rename one of them"
                slots.append(
                    _Slot(path, rel_path, pid, outcome=FileError(path, rel_path, "SP100", message))
                )
            continue
        seen[pid] = rel_path
        slots.append(_Slot(path, rel_path, pid))
    todo = [s for s in slots if s.outcome is None]
    _hash_files(todo, cache)
    todo = [s for s in todo if s.outcome is None]
    for slot in todo:
        slot.key = cache_key(slot.digest, *options)
        cache.used.add(slot.key)
    stored = cache.entries([s.key for s in todo])
    jobs_todo: list[_Slot] = []
    for slot in todo:
        plan = cache.plan(
            stored.get(slot.key), plan_id=slot.plan_id, path=slot.path, rel_path=slot.rel_path
        )
        if plan is not None:
            slot.outcome = plan
            continue
        if slot.data is None:  # the index knew its hash, the cache lacked its entry
            try:
                slot.data = slot.path.read_bytes()
            except OSError as exc:
                slot.outcome = _read_error(slot.path, slot.rel_path, exc)
                continue
            digest = hashlib.sha256(slot.data).hexdigest()
            if digest != slot.digest:
                slot.digest, slot.key = digest, cache_key(digest, *options)
                cache.used.add(slot.key)
        text = decode_plan(slot.data, slot.path, slot.rel_path)
        slot.data = None
        if isinstance(text, FileError):
            slot.outcome = text
            continue
        slot.outcome = ParseJob(
            text, slot.plan_id, str(slot.path), slot.rel_path, *options, slot.digest
        )
        jobs_todo.append(slot)
    _parse(jobs_todo, cache, jobs)
    for slot in slots:
        if isinstance(slot.outcome, FileError):
            handbook.errors.append(slot.outcome)
        elif isinstance(slot.outcome, Plan):
            handbook.plans.append(slot.outcome)
    return [slot.rel_path for slot in slots]


def _parse(slots: list[_Slot], cache: PlanCache, jobs: int | None) -> None:
    """Replace every slot's ParseJob by its plan, in worker processes when there are many."""
    parse_jobs = [s.outcome for s in slots if isinstance(s.outcome, ParseJob)]
    workers = worker_count(len(parse_jobs), jobs)
    done = 0
    if workers > 1:
        try:
            # Plans are rebuilt here while the workers parse the next chunks.
            for slot, payload in zip(slots, parse_parallel(parse_jobs, workers), strict=False):
                cache.put(slot.key, payload)
                slot.outcome = plan_from_data(
                    json.loads(payload),
                    plan_id=slot.plan_id,
                    path=slot.path,
                    rel_path=slot.rel_path,
                )
                done += 1
        except (OSError, RuntimeError, BrokenProcessPool):
            pass  # no (more) processes to be had: parse the rest here
    for slot in slots[done:]:
        assert isinstance(slot.outcome, ParseJob)
        plan = parse_job(slot.outcome)
        if cache.enabled and cache.writable:
            cache.put(slot.key, plan_json(plan))
        slot.outcome = plan


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
    root = root.absolute()
    if not root.is_dir():
        raise NotFoundError(f"handbook directory not found: {root}")
    config = config or load_config(root)
    if paths is None:
        files, errors, catalog = _discover(root)
    else:
        files, errors = _selected(root, paths)
        catalog = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
    handbook = Handbook(root=root, config=config, catalog_path=catalog, errors=errors)
    cache = PlanCache(root, enabled=use_cache)
    big = len(files) >= FREEZE_MIN_FILES
    if big:
        gc.collect()  # so that no one else's cyclic garbage is frozen below
    # Parsing allocates many small objects and creates no cycles: pausing the cyclic GC saves
    # a third of the time on big handbooks without holding on to any garbage.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        seen = _load_files(handbook, files, catalog, cache, jobs)
    finally:
        if gc_was_enabled:
            gc.enable()
    handbook.plans.sort(key=lambda p: p.rel_path)
    if big:
        # Millions of long-lived, acyclic plan objects: every full collection afterwards would
        # walk them all (about a third of a warm check of 10,000 plans). Frozen, the collector
        # skips them; they are still freed by reference counting when dropped.
        gc.freeze()
    # Only a whole-handbook load knows which entries are stale.
    cache.commit(present=seen if paths is None else None)
    return handbook
