"""Live view of a handbook for the web server: plans re-loaded when their file changes.

The server loads the handbook once. Afterwards :meth:`PlansCache.watch` (a background thread
of ``secplan serve``) ``stat``s the plan files and directories every ``scan_interval`` seconds,
a slice at a time so requests never wait long for the interpreter, and requests only read what
the last scan left: no request ``stat``s anything. Without the thread (``scan_interval=0``, as
the tests use it) a plan page ``stat``s its one file and the catalog the whole tree. Changed
files go back through :func:`secplan.handbook.load_handbook` with ``paths=`` so only they are
parsed again; each change bumps :attr:`PlansCache.version`, which the page cache keys on.
Rendered HTML, lint findings and other per-plan results are cached by the plan's id, path and
content hash; label, owner and status sets are computed once per load, not per request.

Files are known by the path the loader gives them (the resolved root joined with the file's path
below it), never ``resolve()``d one by one: on 10,000 plans that took a fifth of start-up, and
discovery lists the same files under the same paths again on every rescan.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from secplan.config import Config, load_config
from secplan.handbook import find_plan_files, load_handbook
from secplan.handbook.files import SKIP_DIRS
from secplan.handbook.loader import FileError, Handbook
from secplan.model import Plan
from secplan.web.links import plan_page_path

if TYPE_CHECKING:
    from secplan.markdown.render import RenderedPlan

#: (errors, warnings) for one plan, judged as if it were ready.
Readiness = tuple[int, int]
#: Lints some plans at ``--require ready``: (plans, handbook, open threads) -> id -> Readiness.
ReadinessFn = Callable[[list[Plan], Handbook, Mapping[str, int]], dict[str, Readiness]]
#: The href of a link from one plan's page to another's: (target, source) -> URL.
PlanHref = Callable[[Plan, Plan], str]
T = TypeVar("T")

#: Files ``stat``ed by the background scan between two pauses (a slice of the tree).
SCAN_SLICE = 100


@dataclass(frozen=True)
class Facets:
    """What the catalog's filters offer, computed once per load of the handbook."""

    labels: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    status_counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, plans: list[Plan]) -> Facets:
        """The label, owner and status sets of ``plans``."""
        return cls(
            labels=sorted({label for p in plans for label in p.labels}),
            owners=sorted({o for p in plans for o in p.owners}),
            status_counts=Counter(p.status for p in plans),
        )


def server_plan_href(target: Plan, source: Plan) -> str:
    """The live server's address of ``target``'s page (absolute, so any page may use it)."""
    return "/plans/" + quote(plan_page_path(target))


@dataclass
class _Stamp:
    mtime_ns: int
    size: int


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return _Stamp(st.st_mtime_ns, st.st_size)


def _dirs(root: Path) -> dict[str, int]:
    """Every directory under root the loader searches (hidden and tool ones skipped) -> mtime."""
    out: dict[str, int] = {}
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        try:
            out[dirpath] = os.stat(dirpath).st_mtime_ns
        except OSError:
            continue
    return out


def _dir_mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _plan_key(plan: Plan) -> str:
    # The id and path too: files with the same bytes (a copied template) render their links
    # from their own folders and are linted under their own ids.
    if not plan.content_hash:
        return f"{plan.path}:{id(plan)}"
    return f"{plan.id}\0{plan.rel_path}\0{plan.content_hash}"


class PlansCache:
    """The handbook as the web server sees it; thread-safe, cheap to ask on every request."""

    def __init__(
        self,
        root: Path,
        config: Config | None = None,
        *,
        scan_interval: float = 1.0,
        readiness: ReadinessFn | None = None,
        plan_href: PlanHref = server_plan_href,
        jobs: int | None = None,
    ) -> None:
        self.root = root.resolve()
        self._jobs = jobs  # parsing processes of the first load (None: the loader decides)
        self._plan_href = plan_href
        self.config = config or load_config(self.root)
        self.scan_interval = scan_interval
        self._readiness_fn = readiness
        self._lock = threading.RLock()
        self._plans: dict[str, Plan] = {}
        self._by_path: dict[Path, str] = {}
        self._stamps: dict[Path, _Stamp | None] = {}
        self._dir_stamps: dict[str, int] = {}
        self._errors: list[FileError] = []
        self._last_scan = 0.0
        self._rendered: dict[str, RenderedPlan] = {}
        self._readiness: dict[tuple[str, int], Readiness] = {}
        self._per_plan: dict[tuple[str, str, str], Any] = {}
        #: Bumped on every change of the loaded handbook (the page cache keys on it).
        self.version = 0
        #: A digest of the handbook's plan ids and files: results that look at other plans
        #: (lint findings) are valid while it stays the same.
        self.shape = ""
        self.facets = Facets()
        #: True while :meth:`watch` runs: requests then never look at the disk themselves.
        self.watching = False
        self.handbook = Handbook(root=self.root, config=self.config)
        self._load_all()

    # -- loading ---------------------------------------------------------------------------

    def _load_all(self) -> None:
        self._dir_stamps = _dirs(self.root)
        handbook = load_handbook(self.root, self.config, jobs=self._jobs)
        self.handbook = handbook
        self._plans = {p.id: p for p in handbook.plans}
        self._by_path = {p.path: p.id for p in handbook.plans}
        self._errors = list(handbook.errors)
        # Unreadable files are watched too: fixing one in place must bring its plan back.
        watched = [*self._by_path, *(e.path for e in self._errors)]
        self._stamps = {path: _stamp(path) for path in watched}
        self._last_scan = time.monotonic()
        self._sync_handbook()

    def _reload(self, paths: list[Path]) -> None:
        """Parse these files again (or forget them when gone) and merge the result."""
        gone = set(paths)
        for path in paths:
            old_id = self._by_path.pop(path, None)
            if old_id is not None:
                self._plans.pop(old_id, None)
            self._stamps.pop(path, None)
        self._errors = [e for e in self._errors if e.path not in gone]
        existing = [p for p in paths if p.exists()]
        if existing:
            fresh = load_handbook(self.root, self.config, paths=existing)
            for plan in fresh.plans:
                self._plans[plan.id] = plan
                self._by_path[plan.path] = plan.id
                self._stamps[plan.path] = _stamp(plan.path)
            for error in fresh.errors:
                self._stamps[error.path] = _stamp(error.path)
            self._errors.extend(fresh.errors)
        self._sync_handbook()

    def _sync_handbook(self) -> None:
        plans = sorted(self._plans.values(), key=lambda p: p.id)
        self.facets = Facets.of(plans)
        shape = hashlib.sha256()
        for plan in plans:
            shape.update(f"{plan.id}\0{plan.rel_path}\0".encode())
        self.shape = shape.hexdigest()
        self.handbook = Handbook(
            root=self.root,
            config=self.config,
            plans=plans,
            catalog_path=self.handbook.catalog_path,
            errors=list(self._errors),
        )
        self.version += 1

    def refresh(self, force: bool = False) -> None:
        """Notice edited, new and deleted plan files (throttled by ``scan_interval``)."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_scan < self.scan_interval:
                return
            self._last_scan = now
            dirs = _dirs(self.root)
            changed: list[Path] = []
            if dirs != self._dir_stamps:
                # A file was added, removed or renamed somewhere: list plan files again.
                self._dir_stamps = dirs
                on_disk = set(find_plan_files(self.root))
                known = set(self._stamps)
                changed.extend(on_disk - known)
                changed.extend(known - on_disk)
            for path, stamp in list(self._stamps.items()):
                if path not in changed and _stamp(path) != stamp:
                    changed.append(path)
            if changed:
                self._reload(changed)

    def watch(self, stop: threading.Event, also: Callable[[], None] | None = None) -> None:
        """Rescan the tree until ``stop`` is set (the body of the server's watcher thread).

        A full pass ``stat``s every known directory (a new, deleted or renamed file changes its
        folder's mtime) and every plan file, ``SCAN_SLICE`` files at a time with a pause in
        between, so the scan never holds the interpreter for more than a moment.
        """
        self.watching = True
        try:
            while not stop.wait(self.scan_interval):
                self._scan_in_slices(stop)
                if also is not None:
                    also()
        finally:
            self.watching = False

    def _scan_in_slices(self, stop: threading.Event) -> None:
        changed: list[Path] = []
        dirs_changed = any(_dir_mtime(d) != mtime for d, mtime in list(self._dir_stamps.items()))
        if dirs_changed:
            dirs = _dirs(self.root)
            on_disk = set(find_plan_files(self.root))
            known = set(self._stamps)
            changed.extend(on_disk - known)
            changed.extend(known - on_disk)
            self._dir_stamps = dirs
        watched = list(self._stamps.items())
        for start in range(0, len(watched), SCAN_SLICE):
            if stop.is_set():
                return
            for path, stamp in watched[start : start + SCAN_SLICE]:
                if path not in changed and _stamp(path) != stamp:
                    changed.append(path)
            time.sleep(0.0005)  # let request threads run
        if changed:
            with self._lock:
                self._reload(changed)
        self._last_scan = time.monotonic()

    def _refresh_one(self, plan: Plan) -> Plan | None:
        if self.watching:
            return plan
        if _stamp(plan.path) == self._stamps.get(plan.path):
            return plan
        self._reload([plan.path])
        return self._plans.get(plan.id)

    # -- queries ---------------------------------------------------------------------------

    def plans(self) -> list[Plan]:
        """Every plan, by id, after a (throttled) check for changes on disk."""
        if not self.watching:
            self.refresh()
        return self.handbook.plans

    def errors(self) -> list[FileError]:
        """Files that could not be read as plans."""
        return list(self._errors)

    def get(self, plan_id: str) -> Plan | None:
        """A plan by id (never by path: ids from URLs are not trusted as paths), fresh from disk."""
        with self._lock:
            plan = self._plans.get(plan_id)
            if plan is None:
                if self.watching:
                    return None  # the watcher brings new plans in
                # Maybe it was just created: check the tree (throttled) before saying 404.
                self.refresh()
                return self._plans.get(plan_id)
            return self._refresh_one(plan)

    def known(self, plan_id: str) -> Plan | None:
        """A plan by id as last loaded, without looking at the disk (for building links)."""
        return self._plans.get(plan_id)

    def rendered(self, plan: Plan) -> RenderedPlan:
        """The plan's sanitised HTML, cached by content hash."""
        key = _plan_key(plan)
        hit = self._rendered.get(key)
        if hit is not None:
            return hit
        # Imported here: only plan pages render Markdown, and a warm start needs no parser.
        from secplan.markdown.render import render_markdown, split_front_matter

        try:
            text = plan.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if plan.body_line > 1:  # the parser already knows where the body starts
            offset = plan.body_line - 1
            body = "\n".join(text.split("\n")[offset:])
        else:
            body, offset = split_front_matter(text)
        result = render_markdown(
            body,
            plan.sections,
            line_offset=offset,
            resolve_link=self.link_resolver(plan),
            flavour=self.config.anchor_flavour,
        )
        if len(self._rendered) > 2048:
            self._rendered.clear()
        self._rendered[key] = result
        return result

    def per_plan(self, kind: str, plan: Plan, compute: Callable[[], T]) -> T:
        """``compute()`` for this plan, cached by its content hash and the handbook's shape.

        For results that depend on the plan's text and on which other plans exist (lint
        findings, breakdown proposals), not on the tracker.
        """
        key = (kind, _plan_key(plan), self.shape)
        try:
            hit: T = self._per_plan[key]
            return hit
        except KeyError:
            pass
        value = compute()
        if len(self._per_plan) > 4096:
            self._per_plan.clear()
        self._per_plan[key] = value
        return value

    def link_resolver(self, plan: Plan) -> Callable[[str], str | None]:
        """Relative links to other plans' files become links to their pages."""
        folder = posixpath.dirname(plan.rel_path)

        def resolve(url: str) -> str | None:
            path, sep, fragment = url.partition("#")
            path = path.split("?", 1)[0]
            if not path:
                return None
            target = self.plan_id_for(posixpath.join(folder, path))
            if target is None:
                return None
            return self._plan_href(self._plans[target], plan) + (f"#{fragment}" if sep else "")

        return resolve

    def plan_id_for(self, rel: str) -> str | None:
        """The id of the plan a root-relative file path (``a/index.md``, ``b.html``) names."""
        target = posixpath.normpath(rel)
        if target.startswith(("../", "/")) or target == "..":
            return None  # leaves the handbook
        for suffix in (".html.md", ".md", ".html"):
            if target.endswith(suffix):
                target = target[: -len(suffix)]
                break
        target = target.rstrip("/")
        if target == "index" or target.endswith("/index"):
            target = target[: -len("index")].rstrip("/")
        return target if target in self._plans else None

    @property
    def lints(self) -> bool:
        """True when readiness can be judged (the lint engine is available)."""
        return self._readiness_fn is not None

    def readiness(
        self, plans: list[Plan], open_threads: Mapping[str, int] | None = None
    ) -> dict[str, Readiness]:
        """plan id -> (errors, warnings) at ``--require ready``; only changed plans are linted.

        Cached by content hash and open-thread count (SP501 depends on the threads).
        """
        if self._readiness_fn is None:
            return {}
        threads = open_threads or {}
        out: dict[str, Readiness] = {}
        missing: list[Plan] = []
        for plan in plans:
            hit = self._readiness.get((_plan_key(plan), threads.get(plan.id, 0)))
            if hit is None:
                missing.append(plan)
            else:
                out[plan.id] = hit
        if missing:
            fresh = self._readiness_fn(missing, self.handbook, threads)
            for plan in missing:
                value = fresh.get(plan.id, (0, 0))
                self._readiness[(_plan_key(plan), threads.get(plan.id, 0))] = value
                out[plan.id] = value
        return out
