"""The whole-handbook check, incremental: a warm run costs what changed.

A plan is rebuilt and checked again only when its file, the rules, the configuration or one of
the cross-plan inputs its rules read has changed; every other plan's findings come from the
findings cache (:mod:`secplan.lint.findings_cache`) without rebuilding the plan.

Cross-plan inputs are not declared by the rules but written down while they run: the context
hands the rules containers and methods that log each read (``plan_ids`` membership, another
plan's anchors or Plan object, open-thread counts, files on disk) as ``(kind, key)``.
:meth:`World.observe` gives the value of a read against the handbook as it is now; a cached
plan is reused only if every one of its reads observes the value it had when it was checked. The
same function records and verifies, so the two cannot disagree.

The handbook-level rules (the catalog) run only when their inputs changed: the catalog page, the
plans' catalog rows and the plan ids. Their inputs are listed in :func:`_handbook_fingerprint`;
a handbook rule that reads more must add it there. They see the plans' catalog rows
(``Handbook.catalog_rows``), not the plans: each plan is dropped once it is checked, so a cold
run of a big handbook holds a batch of plans (:data:`BATCH`), not all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any

import secplan
from secplan.config import Config
from secplan.errors import NotFoundError
from secplan.handbook import plan_id
from secplan.handbook.cache import PlanCache
from secplan.handbook.catalog import catalog_row, config_gitlab_url
from secplan.handbook.conventions import apply_conventions
from secplan.handbook.files import FileError
from secplan.handbook.kep import KEP_METADATA
from secplan.handbook.listing import discover_listed
from secplan.handbook.loader import Handbook, PlanFile, build_plans, collector_paused, scan_files
from secplan.lint.context import LintContext
from secplan.lint.engine import CheckResult, Engine, _shown, root_prefix, shown_path, sort_key
from secplan.lint.findings_cache import FindingsCache, PlanRecord
from secplan.lint.registry import Finding, all_rules
from secplan.markdown.version import PARSER_VERSION
from secplan.model import Plan

if TYPE_CHECKING:
    from secplan.lint.snapshot import Snapshot

#: Bump when what is stored, or how a read is observed, changes.
FINDINGS_VERSION = "1"
_NO_ANCHORS = "-"  # digest of "not a parsed plan"
#: Plans built (and then checked and dropped) at a time.
BATCH = 256


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def anchors_digest(ids: AbstractSet[str]) -> str:
    """A plan's anchor ids as one value (order-free)."""
    return _digest(*sorted(ids))


def ruleset_fingerprint() -> str:
    """The rules as a value: secplan's version, the registry, and the files that implement it.

    The files' sizes and times stand in for their text, so that an edited rule module (a
    development checkout) never serves findings of its older self.
    """
    parts = [secplan.__version__, FINDINGS_VERSION, PARSER_VERSION]
    for info in all_rules():
        parts.append(
            f"{info.code}:{info.name}:{info.default_severity}:{info.scope}:{info.escalates}:"
            f"{info.fixable}:{','.join(sorted(info.silent_in))}"
        )
    package = Path(secplan.__file__).parent
    sources = sorted((package / "lint").glob("*.py")) + [
        package / name for name in ("model.py", "config.py", "refs.py", "handbook/catalog.py")
    ]
    for source in sources:
        try:
            st = source.stat()
        except OSError:
            continue
        parts.append(f"{source.name}:{st.st_size}:{st.st_mtime_ns}")
    return _digest(*parts)


def run_key(
    root: Path,
    config: Config,
    engine: Engine,
    require_ready: bool,
    known_epics: frozenset[str] | None = None,
    catalog: bytes = b"",
) -> str:
    """Everything plans' findings depend on that is the same for every plan of the run (the
    tracker's epics: SP404 reads them; the catalog page: SP401's hint reads its epic links)."""
    selector = engine.selector
    return _digest(
        ruleset_fingerprint(),
        str(root),
        repr(config),
        repr((selector.select, selector.ignore)),
        str(require_ready),
        repr(sorted(known_epics) if known_epics is not None else None),
        hashlib.sha256(catalog).hexdigest(),
    )


class World:
    """The handbook as it is now, as far as the rules' cross-plan reads can see it."""

    def __init__(
        self,
        root: Path,
        config: Config,
        cache: PlanCache,
        by_id: Mapping[str, PlanFile],
        plan_ids: frozenset[str],
        threads: Mapping[str, int],
    ) -> None:
        self.root, self.config, self.cache = root, config, cache
        self.by_id = by_id  # the plan files (not refused ones) by plan id
        self.plan_ids = plan_ids
        self.threads = threads
        self.anchor_ids: dict[str, AbstractSet[str] | str] = {}  # str: JSON not decoded yet
        self.anchor_digests: dict[str, str] = {}
        self._ids_digest: str | None = None
        self._threads_digest: str | None = None

    def anchors(self, pid: str) -> AbstractSet[str] | None:
        ids = self.anchor_ids.get(pid)
        if isinstance(ids, str):
            ids = self.anchor_ids[pid] = frozenset(json.loads(ids))
        return ids

    def anchor_digest(self, pid: str) -> str:
        """What a read of ``pid``'s anchors observes: their digest, or "no such plan"."""
        return self.anchor_digests.get(pid, _NO_ANCHORS)

    def plan(self, pid: str) -> Plan | None:
        slot = self.by_id.get(pid)
        if slot is None:
            return None
        if slot.outcome is None:
            build_plans(self.config, [slot], self.cache)
        return slot.outcome if isinstance(slot.outcome, Plan) else None

    def observe(self, kind: str, key: str) -> Any:
        """The value a read of this kind and key gives now (JSON: bool, int, str or None)."""
        if kind == "id":
            return key in self.plan_ids
        if kind == "anchors":
            return self.anchor_digest(key)
        if kind == "plan":
            slot = self.by_id.get(key)
            return slot.key if slot is not None else None
        if kind == "threads":
            return self.threads.get(key)
        if kind == "path":
            return (self.root / key).exists()
        if kind == "any":
            return bool(self.plan_ids)
        if kind == "ids":
            if self._ids_digest is None:
                self._ids_digest = _digest(*sorted(self.plan_ids))
            return self._ids_digest
        if kind == "threads*":
            if self._threads_digest is None:
                self._threads_digest = _digest(
                    *(f"{k}={v}" for k, v in sorted(self.threads.items()))
                )
            return self._threads_digest
        raise ValueError(f"unknown read {kind!r}")

    def holds(self, deps_json: str) -> bool:
        """Whether every recorded read still observes its recorded value."""
        try:
            deps = json.loads(deps_json)
            return all(self.observe(kind, key) == value for kind, key, value in deps)
        except (ValueError, TypeError):
            return False  # a damaged row is a miss


class _TracedIds(AbstractSet[str]):
    """``ctx.plan_ids`` that writes down each question asked of it."""

    def __init__(self, ids: frozenset[str], trace: list[tuple[str, str]]) -> None:
        self._ids, self._trace = ids, trace

    def __contains__(self, item: object) -> bool:
        self._trace.append(("id", str(item)))
        return item in self._ids

    def __iter__(self) -> Iterator[str]:
        self._trace.append(("ids", ""))
        return iter(self._ids)

    def __len__(self) -> int:
        self._trace.append(("ids", ""))
        return len(self._ids)

    def __bool__(self) -> bool:
        # ``ctx.plan_ids and ...`` asks only whether there are any, not which.
        self._trace.append(("any", ""))
        return bool(self._ids)


class _TracedPlans(Mapping[str, Plan]):
    """``ctx.plans_by_id``: every plan of the handbook, rebuilt only when a rule asks for it."""

    def __init__(self, world: World, trace: list[tuple[str, str]]) -> None:
        self._world, self._trace = world, trace

    def __getitem__(self, key: str) -> Plan:
        self._trace.append(("plan", key))
        plan = self._world.plan(key)
        if plan is None:
            raise KeyError(key)
        return plan

    def __iter__(self) -> Iterator[str]:
        self._trace.append(("ids", ""))
        return iter(self._world.by_id)

    def __len__(self) -> int:
        self._trace.append(("ids", ""))
        return len(self._world.by_id)


class _TracedThreads(Mapping[str, int]):
    """``ctx.open_threads`` that writes down whose count was read."""

    def __init__(self, threads: Mapping[str, int], trace: list[tuple[str, str]]) -> None:
        self._threads, self._trace = threads, trace

    def __getitem__(self, key: str) -> int:
        self._trace.append(("threads", key))
        return self._threads[key]

    def __iter__(self) -> Iterator[str]:
        self._trace.append(("threads*", ""))
        return iter(self._threads)

    def __len__(self) -> int:
        self._trace.append(("threads*", ""))
        return len(self._threads)


class Checker:
    """Checks built plans one at a time: records each one's cross-plan reads, queues its
    findings-cache row, then drops the plan."""

    def __init__(
        self,
        engine: Engine,
        world: World,
        store: FindingsCache,
        key: str,
        rows: dict[str, str],
        cwd: Path | None,
        prefix: str | None,
        *,
        require_ready: bool,
        known_epics: frozenset[str] | None,
    ) -> None:
        self.engine, self.world, self.store, self.key, self.rows = engine, world, store, key, rows
        self.cwd, self.prefix = cwd, prefix
        self.gitlab_url = config_gitlab_url(world.config)
        self.trace: list[tuple[str, str]] = []
        self.ctx = LintContext(
            root=world.root,
            config=world.config,
            require_ready=require_ready,
            open_threads=_TracedThreads(world.threads, self.trace),
            plan_ids=_TracedIds(world.plan_ids, self.trace),
            plans_by_id=_TracedPlans(world, self.trace),
            whole_handbook=True,
            anchor_lookup=world.anchors,
            trace=self.trace,
            known_epics=known_epics,
        )
        self.checked: dict[str, list[Finding]] = {}  # rel_path -> findings of the plans checked
        self.deps: dict[str, list[list[Any]]] = {}  # rel_path -> their reads, as stored

    def note(self, built: list[PlanFile]) -> None:
        """What the other plans' rules may read of freshly built plans: anchors, catalog row."""
        world = self.world
        for slot in built:
            if isinstance(slot.outcome, Plan) and slot.plan_id not in world.anchor_digests:
                ids = slot.outcome.anchor_ids()
                world.anchor_ids[slot.plan_id] = ids
                world.anchor_digests[slot.plan_id] = anchors_digest(ids)
                self.rows[slot.plan_id] = catalog_row(slot.outcome, self.gitlab_url)

    def lint(self, slot: PlanFile, *, final: bool) -> bool:
        """Check a built plan and store its findings; then drop the plan (a rule asking for it
        again rebuilds it). False, and nothing kept, when not ``final`` and a rule read the
        anchors of a plan not built yet: it is checked again once every plan is."""
        plan, world, trace = slot.outcome, self.world, self.trace
        assert isinstance(plan, Plan)
        trace.clear()
        findings = self.engine.check_plan(plan, self.ctx, self.cwd, self.prefix)
        reads = dict.fromkeys(trace)
        if not final and any(
            kind == "anchors" and k in world.by_id and k not in world.anchor_digests
            for kind, k in reads
        ):
            return False
        deps = [[kind, k, world.observe(kind, k)] for kind, k in reads]
        self.store.put(
            slot.rel_path,
            PlanRecord(
                slot.plan_id,
                slot.key,
                self.key,
                json.dumps(sorted(world.anchors(slot.plan_id) or ()), ensure_ascii=False),
                world.anchor_digest(slot.plan_id),
                self.rows[slot.plan_id],
                json.dumps(deps, ensure_ascii=False),
                _encode(findings),
            ),
        )
        self.checked[slot.rel_path] = findings
        self.deps[slot.rel_path] = deps
        slot.outcome = None  # the findings are what is left of it
        return True


# --- encoding findings ------------------------------------------------------------------------


def _encode(findings: list[Finding], *, with_rel_path: bool = False) -> str:
    rows = [
        [f.code, f.message, f.line, f.column, f.name, f.severity, f.fixable]
        + ([f.rel_path] if with_rel_path else [])
        for f in findings
    ]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _decode_plan_findings(data: str, pid: str, rel_path: str, shown: str) -> list[Finding] | None:
    """The findings of a row; None when the row is damaged (the plan is checked again)."""
    try:
        return [
            Finding(code, message, line, column, name, severity, shown, rel_path, pid, fixable)
            for code, message, line, column, name, severity, fixable in json.loads(data)
        ]
    except (ValueError, TypeError):
        return None


def _decode_handbook_findings(data: str, root: Path, cwd: Path | None) -> list[Finding] | None:
    try:
        return [
            Finding(
                code,
                message,
                line,
                column,
                name,
                severity,
                shown_path(root, rel_path, cwd),
                rel_path,
                None,
                fixable,
            )
            for code, message, line, column, name, severity, fixable, rel_path in json.loads(data)
        ]
    except (ValueError, TypeError):
        return None


def _handbook_fingerprint(
    key: str, catalog: Path | None, rows: list[tuple[str, str]], errors: list[str]
) -> str:
    """The inputs of the handbook-level rules: the catalog page, every plan's id and catalog
    row, the files that are no plans. A handbook rule reading more must add it here."""
    page = ""
    if catalog is not None:
        try:
            page = catalog.read_bytes().hex()
        except OSError:
            page = "unreadable"
    return _digest(
        key, str(catalog), page, *(f"{pid}\t{row}" for pid, row in rows), "\0errors", *errors
    )


# --- the run ----------------------------------------------------------------------------------


def _conventions(slots: list[PlanFile], config: Config) -> None:
    """What :func:`~secplan.handbook.loader.load_handbook` does after parsing: other
    handbooks' status words and KEP metadata."""
    apply_conventions([s.outcome for s in slots if isinstance(s.outcome, Plan)], config)


def check_handbook(
    root: Path,
    config: Config,
    engine: Engine,
    *,
    require_ready: bool = False,
    open_threads: Mapping[str, int] | None = None,
    cwd: Path | None = None,
    jobs: int | None = None,
    known_epics: frozenset[str] | None = None,
    snapshot: Snapshot | None = None,
) -> CheckResult:
    """Check the whole handbook at ``root``: the same result as loading it and running
    :meth:`Engine.check`, with unchanged plans taken from the findings cache.

    With a ``snapshot``, the result is kept there too and comes back rendered in its format.
    """
    threads = dict(open_threads or {})
    root = root.absolute()
    if not root.is_dir():
        raise NotFoundError(f"handbook directory not found: {root}")
    cache = PlanCache(root)
    store = FindingsCache(root, enabled=cache.enabled)
    stored_listing = store.listing()
    files, errors, catalog, listing = discover_listed(root, stored_listing)
    if listing is not None and listing != stored_listing:
        store.put_listing(listing)
    handbook = Handbook(root=root, config=config, catalog_path=catalog, errors=errors)
    slots = scan_files(handbook, files, handbook.catalog_path, cache)
    records, stored_handbook = store.load()
    page = handbook.catalog_path
    key = run_key(
        root, config, engine, require_ready, known_epics, page.read_bytes() if page else b""
    )
    plan_ids = frozenset(
        [s.plan_id for s in slots] + [plan_id(e.rel_path) for e in handbook.errors]
    )

    def reusable(slot: PlanFile) -> PlanRecord | None:
        record = records.get(slot.rel_path)
        if record is None or slot.outcome is not None:
            return None
        if slot.path.name.lower() == "readme.md" and (slot.path.parent / KEP_METADATA).exists():
            return None  # its front matter comes from a file the record does not cover
        if (record.plan_key, record.run_key, record.plan_id) != (slot.key, key, slot.plan_id):
            return None
        return record

    kept = {s.rel_path: r for s in slots if (r := reusable(s)) is not None}
    changed = [s for s in slots if s.outcome is None and s.rel_path not in kept]
    built_any = bool(changed)
    by_id = {s.plan_id: s for s in slots if s.outcome is None or isinstance(s.outcome, Plan)}
    world = World(root, config, cache, by_id, plan_ids, threads)
    rows: dict[str, str] = {}
    for slot in slots:
        record = kept.get(slot.rel_path)
        if record is not None:
            world.anchor_ids[slot.plan_id] = record.anchors
            world.anchor_digests[slot.plan_id] = record.anchors_digest
            rows[slot.plan_id] = record.row

    prefix = root_prefix(root, cwd)
    checker = Checker(
        engine,
        world,
        store,
        key,
        rows,
        cwd,
        prefix,
        require_ready=require_ready,
        known_epics=known_epics,
    )
    checked, lint, note = checker.checked, checker.lint, checker.note

    # Changed plans are built a batch at a time and checked as soon as the plans their rules
    # read are known, then dropped: a cold check of a big handbook holds a batch of plans,
    # not all of them. A plan linking ahead to a plan of a later batch waits for it.
    waiting: list[PlanFile] = []

    def built(batch: list[PlanFile]) -> None:
        _conventions(batch, config)
        note(batch)
        waiting.extend(s for s in batch if isinstance(s.outcome, Plan) and not lint(s, final=False))

    with collector_paused(len(changed)):
        build_plans(config, changed, cache, jobs, on_built=built, batch=BATCH)
        for slot in waiting:
            lint(slot, final=True)
    note(slots)  # plans a rule asked for out of turn

    # Unchanged plans whose reads now observe something else are checked again.
    cached: dict[str, list[Finding]] = {}
    for slot in slots:
        record = kept.get(slot.rel_path)
        if record is None:
            continue
        shown = _shown(prefix, slot.rel_path, slot.path, cwd)
        found = _decode_plan_findings(record.findings, slot.plan_id, slot.rel_path, shown)
        if found is None or not world.holds(record.deps):
            del kept[slot.rel_path]
        else:
            cached[slot.rel_path] = found
    recheck = [
        s
        for s in slots
        if s.outcome is None and s.rel_path not in kept and s.rel_path not in checked
    ]
    built_any = built_any or bool(recheck)
    with collector_paused(len(recheck)):
        build_plans(config, recheck, cache, jobs)
    _conventions(recheck, config)
    note(recheck)
    for slot in recheck:
        if isinstance(slot.outcome, Plan):
            lint(slot, final=True)

    result = CheckResult()
    for slot in slots:
        found = cached.get(slot.rel_path)
        if found is None:
            found = checked.get(slot.rel_path)
        if found is not None:
            result.plans_checked += 1
            result.findings.extend(found)

    handbook.errors.extend(s.outcome for s in slots if isinstance(s.outcome, FileError))
    result.files_unreadable = len(handbook.errors)
    result.findings.extend(engine.error_findings(handbook, cwd, prefix))

    if engine.handbook_rules:
        fingerprint = _handbook_fingerprint(
            key,
            handbook.catalog_path,
            [(s.plan_id, rows[s.plan_id]) for s in slots if s.plan_id in rows],  # path order
            [f"{e.rel_path}:{e.code}" for e in handbook.errors],
        )
        handbook_findings = None
        if stored_handbook is not None and stored_handbook[0] == fingerprint:
            handbook_findings = _decode_handbook_findings(stored_handbook[1], root, cwd)
        if handbook_findings is None:
            # The handbook rules see the plans' catalog rows, not the plans (long dropped).
            handbook.catalog_rows = rows
            full = engine.context(handbook, require_ready, threads, set(plan_ids))
            handbook_findings = engine.handbook_findings(handbook, full, cwd)
            store.put_handbook(fingerprint, _encode(handbook_findings, with_rel_path=True))
        result.findings.extend(handbook_findings)

    result.findings.sort(key=sort_key)
    if snapshot is not None:
        deps: dict[str, str | list[list[Any]]] = {rel: r.deps for rel, r in kept.items()}
        deps.update(checker.deps)
        result.rendered = snapshot.save(
            key=key,
            prefix=prefix,
            cwd=cwd,
            listing=listing,
            threads=threads,
            slots=slots,
            digests=world.anchor_digests,
            rows=rows,
            deps=deps,
            result=result,
        )
    present = [s.rel_path for s in slots if s.rel_path in kept or s.rel_path in checked]
    store.commit(present)
    cache.used.update(s.key for s in slots if s.key)
    cache.commit(present=[s.rel_path for s in slots] if built_any else None)
    return result
