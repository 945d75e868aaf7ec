"""``secplan build``: every page of the web UI written as files, for GitLab Pages or any host.

The pages come from the web UI's own context builders (``routes_*``) and templates, rendered
with :class:`~secplan.web.links.SiteLinks` (relative links, or ``--base-url``) and without the
live parts (forms). The tracker is only read, through ``web/data.py`` and the ``Tracker``
protocol, and only when its database exists: a handbook that was never synced builds without
tracker data, and no database is created.

Layout of the output::

    index.html, plans.json            catalog
    plans/<id>.html | plans/<id>/     plan pages (folder plans get a folder, as in the handbook)
    plans/<id>.json                   their JSON twins
    plans/<handbook path>             assets the plans link (images, attachments)
    progress/<id>.svg                 burn-up charts
    epics/<ref>.html|.json, epics/index.html, epics.json, board.html|.json   tracker snapshots
    issues/<project>/<iid>.html|.json, roadmap.html|.json                   (with a tracker)
    search.html, pagefind/            full-text search (Pagefind)
    source/<id>.html                  plan files with line anchors (diagnostics link there)
    static/, 404.html, sitemap.xml
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import time
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import secplan
from secplan import __version__
from secplan.config import Config, load_config
from secplan.errors import UsageError
from secplan.handbook.loader import Handbook
from secplan.handbook.parallel import JOBS_ENV, available_cores
from secplan.model import Plan
from secplan.site import fastpath, linkcheck, workers
from secplan.site.linkcheck import PageLinks
from secplan.site.manifest import MANIFEST_NAME, Manifest, PlanEntry, digest, files_digest
from secplan.site.pages import SITE_CSP, render_page
from secplan.site.report import BuildReport
from secplan.site.search import BUNDLE, index_site
from secplan.web.app import HERE as WEB_DIR
from secplan.web.app import WebContext, lint_readiness
from secplan.web.assets import asset_rel_path, handbook_asset, is_active_svg
from secplan.web.links import (
    SiteLinks,
    epic_site_file,
    issue_site_file,
    plan_site_file,
    plan_site_url,
)
from secplan.web.plans_cache import PlansCache, Readiness
from secplan.web.security import Auth

_URL_ATTR = re.compile(r'\s(?:href|src)="([^"]*)"')
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def tracker_database_exists(root: Path, database_url: str | None) -> bool:
    """Whether the tracker database is there to be read (a SQLite file is never created)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from secplan.store.engine import default_database_path

    if not database_url:
        return default_database_path(root).is_file()
    try:
        url = make_url(database_url)
    except ArgumentError:
        return False
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        return bool(name) and name != ":memory:" and Path(name).is_file()
    return True  # a database server: reading it creates nothing


class _Builder:
    def __init__(
        self,
        root: Path,
        out: Path,
        base_url: str | None,
        database_url: str | None,
        config: Config,
        search: bool,
    ) -> None:
        self.root = root
        self.out = out
        self.base_url = base_url
        self.config = config
        self.old = Manifest.load(out)
        self.new = Manifest()
        self.report = BuildReport(out=out)
        self.produced: set[str] = set()
        #: Link-check records of the pages rendered by this build.
        self.records: dict[str, PageLinks] = {}
        #: Pages of plans this build kept: their manifest records (ids, link-check result).
        self.kept_pages: dict[str, dict[str, Any]] = {}
        self.search = search and find_spec("pagefind") is not None
        if search and not self.search:
            self.report.warnings.append(
                "search index not built: the 'pagefind' package is not installed "
                "(pip install 'pagefind[extended]')"
            )
        self._ready: dict[str, tuple[str, Readiness]] = {}
        self.epics: list[str] = []
        self.issues: set[str] = set()
        self.shape = ""
        plans = PlansCache(
            root,
            config,
            scan_interval=float("inf"),  # one build, one snapshot of the handbook
            # A build has the machine: parse on every core, busy or not (SECPLAN_JOBS rules).
            jobs=None if os.environ.get(JOBS_ENV) else available_cores(),
            readiness=self._readiness,
            plan_href=self._plan_href,
        )
        url = database_url or config.database_url
        self.ctx = WebContext(root, config, url, Auth(), float("inf"), plans=plans)
        if not tracker_database_exists(root, url):
            self.ctx.store_error = "no tracker database"  # never open (and so create) one
        self.report.tracker = self.ctx.tracker is not None
        if self.ctx.tracker is None and self.ctx.store_error != "no tracker database":
            self.report.warnings.append(f"{self.ctx.store_error}; built without tracker data")

    # -- links -----------------------------------------------------------------------------

    def links(self, page: str) -> SiteLinks:
        return SiteLinks(
            page,
            self.ctx.plans.known,
            base_url=self.base_url,
            epics=self.epics,
            issues=self.issues,
            board=self.report.tracker,
            search=self.search,
        )

    def _plan_href(self, target: Plan, source: Plan) -> str:
        links = SiteLinks(plan_site_file(source), self.ctx.plans.known, base_url=self.base_url)
        return links.to(plan_site_url(target))

    def _readiness(
        self, plans: list[Plan], handbook: Handbook, threads: Any
    ) -> dict[str, Readiness]:
        """Lint at ``--require ready``, reusing the last build's answer for unchanged plans."""
        out: dict[str, Readiness] = {}
        missing: list[Plan] = []
        for plan in plans:
            key = digest(self.shape, plan.content_hash, threads.get(plan.id, 0))
            entry = self.old.plans.get(plan.id)
            if entry is not None and entry.ready_key == key:
                out[plan.id] = entry.readiness
            else:
                missing.append(plan)
            self._ready[plan.id] = (key, (0, 0))
        if missing:
            out.update(lint_readiness(missing, handbook, threads))
        for plan in plans:
            self._ready[plan.id] = (self._ready[plan.id][0], out.get(plan.id, (0, 0)))
        return out

    # -- writing ---------------------------------------------------------------------------

    def _target(self, rel: str) -> Path:
        path = self.out / rel
        if ".." in rel.split("/") or rel.startswith("/"):
            raise UsageError(f"refusing to write outside the site: {rel}")
        return path

    def emit(self, rel: str, data: str | bytes) -> bool:
        """Write ``rel`` when its bytes changed; True when written."""
        blob = data.encode("utf-8") if isinstance(data, str) else data
        self.produced.add(rel)
        path = self._target(rel)
        try:
            if path.stat().st_size == len(blob) and path.read_bytes() == blob:
                self.report.kept += 1
                return False
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
        self.report.written.append(rel)
        return True

    def emit_page(self, rel: str, html: str) -> None:
        self.emit(rel, html)
        self.records[rel] = linkcheck.page_links(rel, html)

    def emit_json(self, rel: str, data: Any) -> None:
        # Compact, as the server sends it: an indent makes json use its slow pure-Python encoder.
        self.emit(rel, json.dumps(data, default=str, ensure_ascii=False))

    # -- the build -------------------------------------------------------------------------

    def run(self) -> BuildReport:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        ctx = self.ctx
        plans = ctx.plans.plans()
        self.report.plans_total = len(plans)
        tracker = ctx.tracker
        self.epics = [e.ref for e in tracker.list_epics()] if tracker else []
        self.shape = digest(
            [(p.id, p.rel_path, p.title, p.status, p.epic, sorted(p.anchor_ids())) for p in plans]
        )
        self.new.global_key = digest(
            __version__,
            files_digest(Path(secplan.__file__).parent),
            SITE_CSP,
            self.base_url,
            self.search,
            repr(self.config),
            self.epics,
            self.report.tracker,
        )
        fresh = self.new.global_key != self.old.global_key
        from secplan.web.data import feedback_flags, issue_index, threads_for

        index = issue_index(ctx)
        # One snapshot for the whole build: every page (and every worker) reads this one, and
        # its per-plan coverage is computed once, not again when the read gets old.
        ctx.index_cache = (time.monotonic(), index, ctx.index_cache[2] if ctx.index_cache else "")
        ctx.plans.watching = True
        self.issues = set(index.by_ref) if tracker else set()
        todo: list[tuple[Plan, str]] = []
        for plan in plans:
            tracked = (
                sorted(repr(i) for i in index.plan_issues(plan).values()),
                threads_for(ctx, plan) if tracker else [],
                feedback_flags(ctx, plan) if tracker else {},
                repr(ctx.mr_threads.for_plan(plan.id)) if ctx.mr_threads is not None else "",
            )
            key = digest(self.new.global_key, self.shape, plan.content_hash, plan.rel_path, tracked)
            entry = None if fresh else self.old.plans.get(plan.id)
            if entry is not None and entry.key == key and self._still_there(entry.files):
                self.produced.update(entry.files)
                self.report.kept += len(entry.files)
                self.kept_pages.update(entry.pages)
                self.new.plans[plan.id] = entry
            else:
                todo.append((plan, key))
        for rendered in workers.render_all(self, todo):
            self._merge(rendered)
        self._build_catalog()
        if tracker is not None:
            self._build_tracker_pages()
        self._build_common_pages()
        self._copy_assets()
        if self.search:
            self._index_search()
        self._remove_stale()
        for plan in plans:  # readiness the catalog asked for, remembered for the next build
            entry = self.new.plans[plan.id]
            entry.ready_key, entry.readiness = self._ready.get(
                plan.id, (entry.ready_key, entry.readiness)
            )
        self._check_links(plans)
        self.new.files = sorted(self.produced)
        self.new.save(self.out)
        ctx.close()
        self.report.search = self.search
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _check_links(self, plans: list[Plan]) -> None:
        """The link check of every page: pages rendered now are checked, the others keep the
        last build's result unless a file they link to came or went or an anchored one got
        other ids (then their plan is rendered again, which writes nothing new)."""
        came_or_went = self.produced.symmetric_difference(self.old.files)
        old_ids: dict[str, Any] = dict(self.old.pages)
        for old_entry in self.old.plans.values():
            old_ids.update(old_entry.pages)
        ids_changed = {
            page
            for page, record in self.records.items()
            if (old_ids.get(page) or {}).get("ids") != record.ids
        }
        kept: dict[str, linkcheck.PageResult] = {}
        for plan in plans:
            entry = self.new.plans[plan.id]
            if any(page in self.records for page in entry.pages):
                continue  # rendered by this build
            results = {page: _page_result(rec) for page, rec in entry.pages.items()}
            usable = {p: r for p, r in results.items() if r is not None}
            if len(usable) == len(results) and not any(
                r.stale(came_or_went, ids_changed) for r in usable.values()
            ):
                kept.update(usable)
                continue
            for page in entry.pages:
                self.kept_pages.pop(page, None)
            self.new.plans[plan.id] = self._build_plan(plan, entry.key)
            self.report.plans_rebuilt += 1

        def ids_of(page: str) -> set[str] | None:
            record = self.records.get(page)
            if record is not None:
                return set(record.ids)
            stored = self.kept_pages.get(page)
            return set(stored.get("ids") or ()) if stored is not None else None

        pages_of = {p: e for e in self.new.plans.values() for p in e.pages}
        for page in sorted({*self.records, *kept}):
            result = kept.get(page)
            if result is None:
                record = self.records[page]
                result = linkcheck.check_page(page, record, self.produced, ids_of, self.base_url)
                stored = {"ids": record.ids, **result.to_json()}
                owner = pages_of.get(page)
                (owner.pages if owner is not None else self.new.pages)[page] = stored
            self.report.broken.extend(result.broken)
            self.report.external.extend(result.external)

    def render_plan(self, plan: Plan, key: str) -> workers.Rendered:
        """Render and write one plan's files; what it did is returned (for :meth:`_merge`,
        here or in the builder a worker process was forked from), not kept."""
        written, kept, records = len(self.report.written), self.report.kept, self.records
        self.records = {}
        try:
            entry = self._build_plan(plan, key)
            return workers.Rendered(
                plan.id,
                entry,
                self.records,
                self.report.written[written:],
                self.report.kept - kept,
            )
        finally:
            self.records = records
            del self.report.written[written:]
            self.report.kept = kept

    def after_fork(self) -> None:
        """In a worker process: its own database connections, never the parent's."""
        backend = getattr(self.ctx, "_backend", None)
        engine = getattr(getattr(backend, "store", None), "engine", None)
        if engine is not None:
            engine.dispose(close=False)

    def _merge(self, rendered: workers.Rendered) -> None:
        self.new.plans[rendered.plan_id] = rendered.entry
        self.produced.update(rendered.entry.files)
        self.records.update(rendered.records)
        self.report.written.extend(rendered.written)
        self.report.kept += rendered.kept
        self.report.plans_rebuilt += 1

    def _still_there(self, files: Iterable[str]) -> bool:
        return all((self.out / f).is_file() for f in files)

    def _build_plan(self, plan: Plan, key: str) -> PlanEntry:
        from secplan.web.routes_plans import (
            plan_document,
            plan_page_context,
            plan_source_context,
            plan_source_file,
            plan_view,
            progress_svg,
        )

        ctx = self.ctx
        view = plan_view(ctx, plan)
        page = plan_site_file(plan)
        links = self.links(page)
        html = render_page(ctx, "plan.html", links, **plan_page_context(ctx, plan, view, links))
        files = [page, f"plans/{plan.id}.json"]
        self.emit(page, html)
        self.emit_json(files[1], plan_document(ctx, plan, view))
        if view["progress"]["total"]:
            files.append(f"progress/{plan.id}.svg")
            self.emit(files[-1], progress_svg(ctx, plan))
        # The plan file with line anchors, which the page's diagnostics link to.
        source_page = plan_source_file(plan)
        source = plan_source_context(plan)
        source_html = render_page(ctx, "source.html", self.links(source_page), **source)
        files.append(source_page)
        self.emit(source_page, source_html)
        record = linkcheck.page_links(page, html, plan.rel_path, self._source_lines(plan))
        # The numbered lines link only to themselves: the record keeps the rest of the page
        # and the line anchors the diagnostics link to (the manifest stays small).
        source_record = linkcheck.page_links(
            source_page, source_html.replace(source["lines_html"], ""), plan.rel_path, {}
        )
        wanted = {d.get("line") for d in view["diagnostics"]}
        source_record.ids.extend(
            f"L{n}"
            for n in sorted(w for w in wanted if isinstance(w, int))
            if 0 < n <= source["line_count"]
        )
        self.records[page] = record
        self.records[source_page] = source_record
        return PlanEntry(
            key=key,
            files=files,
            assets=self._linked_assets(plan),
            pages={page: {}, source_page: {}},  # their link-check results: _check_links
        )

    def _source_lines(self, plan: Plan) -> dict[str, int]:
        """Rendered URL -> line of the plan file that wrote it (for link-check findings)."""
        try:
            text = plan.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return {}
        resolve = self.ctx.plans.link_resolver(plan)
        out: dict[str, int] = {}
        for url, line in linkcheck.source_links(text):
            out.setdefault(url, line)
            if not url.startswith(("#", "/")) and not _SCHEME.match(url):
                rendered = resolve(url)
                if rendered is not None:
                    out.setdefault(rendered, line)
        return out

    def _linked_assets(self, plan: Plan) -> list[str]:
        """Handbook files (root-relative) the plan's text links or shows, present or not."""
        folder = posixpath.dirname(plan.rel_path)
        found: set[str] = set()
        for m in _URL_ATTR.finditer(self.ctx.plans.rendered(plan).html):
            url = m.group(1).replace("&amp;", "&")
            if not url or url.startswith(("#", "/")) or _SCHEME.match(url):
                continue
            path = unquote(url.split("#", 1)[0].split("?", 1)[0])
            rel = posixpath.normpath(posixpath.join(folder, path))
            # Missing files too: one that comes back is copied without the plan changing.
            if asset_rel_path(rel) is not None:
                found.add(rel)
        return sorted(found)

    def _build_catalog(self) -> None:
        from secplan.web.routes_catalog import catalog_context, catalog_document, catalog_rows

        ctx = self.ctx
        page = catalog_rows(ctx, limit=max(1, self.report.plans_total))
        filters = {"status": "", "label": "", "owner": "", "q": ""}
        context = catalog_context(ctx, page, filters)
        self.emit_page("index.html", render_page(ctx, "catalog.html", self.links(""), **context))
        self.emit_json("plans.json", catalog_document(ctx, page))

    def _build_tracker_pages(self) -> None:
        from secplan.web.routes_tracker import (
            board_context,
            board_view,
            epic_context,
            epic_view,
            epics_view,
        )

        ctx = self.ctx
        for ref in self.epics:
            view = epic_view(ctx, ref)
            rel = epic_site_file(ref)
            html = render_page(ctx, "epic.html", self.links(rel), **epic_context(view))
            self.emit_page(rel, html)
            self.emit_json(epic_site_file(ref, "json"), view)
        epics = epics_view(ctx)
        index_page = "epics/index.html"
        html = render_page(ctx, "epics.html", self.links(index_page), title="Epics", **epics)
        self.emit_page(index_page, html)
        self.emit_json("epics.json", epics)
        view = board_view(ctx, None, None)
        context = board_context(ctx, view)
        self.emit_page("board.html", render_page(ctx, "board.html", self.links(""), **context))
        self.emit_json("board.json", view)
        self._build_issue_pages()
        self._build_roadmap()

    def _build_issue_pages(self) -> None:
        from secplan.web.routes_issues import issue_context, issue_view, milestone_dues

        ctx = self.ctx
        dues = milestone_dues(ctx)
        for ref in sorted(self.issues):
            view = issue_view(ctx, ref, dues)
            rel = issue_site_file(ref)
            html = render_page(ctx, "issue.html", self.links(rel), **issue_context(view))
            self.emit_page(rel, html)
            self.emit_json(issue_site_file(ref, "json"), view)

    def _build_roadmap(self) -> None:
        from datetime import date

        from secplan.web.roadmap import roadmap_view
        from secplan.web.routes_roadmap import roadmap_context

        ctx = self.ctx
        view = roadmap_view(ctx)
        context = roadmap_context(ctx, view, date.today())
        html = render_page(ctx, "roadmap.html", self.links("roadmap.html"), **context)
        self.emit_page("roadmap.html", html)
        self.emit_json("roadmap.json", view)

    def _build_common_pages(self) -> None:
        ctx = self.ctx
        for path in sorted((WEB_DIR / "static").iterdir()):
            self.emit(f"static/{path.name}", path.read_bytes())
        # GitLab Pages serves 404.html for a missing path at any depth: absolute links only.
        absolute = SiteLinks("404.html", ctx.plans.known, base_url=self.base_url or "")
        error = render_page(
            ctx,
            "error.html",
            absolute,
            title="404",
            status=404,
            detail="There is no page at this address.",
        )
        self.emit_page("404.html", error)
        if self.search:
            self.emit_page(
                "search.html", render_page(ctx, "search.html", self.links(""), title="Search")
            )
        self.emit("sitemap.xml", self._sitemap())

    def _sitemap(self) -> str:
        from xml.sax.saxutils import escape

        pages = sorted(
            p
            for p in {*self.records, *self.kept_pages}
            if p not in ("404.html", "search.html") and not p.startswith("source/")
        )
        prefix = (self.base_url or "").rstrip("/") + "/" if self.base_url else ""
        rows = [f"  <url><loc>{escape(prefix + _page_url(p))}</loc></url>" for p in pages]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows)
            + "\n</urlset>\n"
        )

    def _copy_assets(self) -> None:
        wanted = sorted({a for e in self.new.plans.values() for a in e.assets})
        for rel in wanted:
            site = f"plans/{rel}"
            src = handbook_asset(self.root, rel)
            if src is None:
                continue  # not there (any more), or not to be shown
            if site in self.produced:
                self.report.warnings.append(f"{rel}: not copied, a page of the site has its name")
                continue
            if is_active_svg(src):
                self.report.warnings.append(f"{rel}: not copied, the SVG carries script")
                continue
            st = src.stat()
            stamp = [st.st_size, st.st_mtime_ns]
            self.produced.add(site)
            self.new.assets[rel] = stamp
            dest = self._target(site)
            if self.old.assets.get(rel) == stamp and dest.is_file():
                self.report.kept += 1
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            self.report.written.append(site)
        self.report.assets = len(self.new.assets)

    def _remove_stale(self) -> None:
        """Files the last build wrote that this one did not (deleted plans, renamed epics)."""
        for rel in sorted(set(self.old.files) - self.produced):
            norm = posixpath.normpath(rel)
            if norm.startswith(("..", "/")) or norm == MANIFEST_NAME:
                continue
            path = self.out / norm
            try:
                path.unlink()
            except OSError:
                continue
            self.report.removed.append(norm)
            parent = path.parent
            while parent != self.out and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def _index_search(self) -> None:
        """Pagefind indexes the plan pages (``data-pagefind-body``), the shards whose pages
        changed (see :mod:`secplan.site.search`)."""
        pages = [p for p in self.produced if p.endswith(".html")]
        result = index_site(self.out, pages, [*self.report.written, *self.report.removed])
        if not result.ok:
            self.search = False
            self.report.warnings.append("search index failed: " + result.error)
            return
        self.report.written.extend(f"{folder}/" for folder in result.indexed)
        for path in (self.out / BUNDLE).rglob("*"):
            if path.is_file():
                self.produced.add(path.relative_to(self.out).as_posix())


def _page_result(stored: dict[str, Any]) -> linkcheck.PageResult | None:
    """A kept page's link-check result from the manifest; None when it has none (or a broken
    one): the page is checked again."""
    try:
        return linkcheck.PageResult.from_json(stored)
    except (KeyError, TypeError, ValueError):
        return None


def _page_url(page: str) -> str:
    """A page's address: folders for ``index.html`` pages (``plans/a/``, the home page ``""``)."""
    if page == "index.html":
        return "./"
    if page.endswith("/index.html"):
        return page.removesuffix("index.html")
    return page


def build(
    root: Path,
    out: Path,
    *,
    base_url: str | None = None,
    database_url: str | None = None,
    search: bool = True,
) -> BuildReport:
    """Build the static site of the handbook at ``root`` into ``out`` (incrementally; a build
    where nothing changed is answered by :mod:`secplan.site.fastpath`)."""
    return fastpath.build(root, out, base_url=base_url, database_url=database_url, search=search)


def full_build(
    root: Path,
    out: Path,
    base_url: str | None,
    database_url: str | None,
    search: bool,
    inputs: str | None,
) -> BuildReport:
    """The build itself (``root`` and ``out`` resolved and checked); ``inputs`` is the digest
    of what it reads, taken before it started, recorded for the next build."""
    builder = _Builder(root, out, base_url, database_url, load_config(root), search)
    report = builder.run()
    # A search index that failed (or could not be built) is tried again next time.
    fastpath.record(out, inputs if report.search or not search else None, report, builder.new.files)
    return report
