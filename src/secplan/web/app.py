"""The FastAPI application: ``create_app(root)`` serves one handbook and its tracker.

Pages are server-rendered Jinja2 templates (autoescaped); every page has a JSON twin. The
handbook is read through :class:`~secplan.web.plans_cache.PlansCache` (live reload by mtime);
the tracker and review threads come from the store, opened lazily so a handbook without a
database still shows its plans.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from secplan import __version__
from secplan.config import Config, load_config
from secplan.errors import SecplanError
from secplan.handbook.loader import Handbook
from secplan.model import Plan
from secplan.redact import redact, url_secrets
from secplan.store.engine import Store
from secplan.sync.state import StoreState
from secplan.tracker import Backend, open_backend
from secplan.tracker.base import Tracker
from secplan.web import page_cache, security
from secplan.web.links import ServerLinks, SiteLinks
from secplan.web.mr_threads import MrThreads
from secplan.web.plans_cache import PlansCache, Readiness
from secplan.web.security import Auth

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def safe_url(url: object) -> str:
    """A URL from front matter, or ``#`` when it could run script (``javascript:``, ``data:``)."""
    text = str(url or "").strip()
    lowered = "".join(text.split()).lower()
    if lowered.startswith(_SAFE_SCHEMES) or not re.match(r"^[a-z][a-z0-9+.-]*:", lowered):
        return text
    return "#"


def path_quote(value: object, safe: str = "/") -> str:
    """Percent-encode a plan id or anchor for use in a URL path (``/`` kept for nested ids)."""
    return quote(str(value), safe=safe)


@jinja2.pass_context
def ref_href(context: Any, ref: object, links: Any = None) -> str | None:
    """The page of a tracker ref (issue, epic, ``%milestone``) through the page's ``links``
    (or ``links`` given, as macros must), or None when the tracker does not have it."""
    links = links if links is not None else context.get("links")
    return links.ref(str(ref)) if links is not None and ref else None


@jinja2.pass_context
def ref_link(context: Any, ref: object, text: object = None, links: Any = None) -> Markup:
    """A tracker ref as a link to its page; a ref the tracker does not have is plain text
    with a "not in the tracker" mark (never a link to a missing page)."""
    if not ref:
        return Markup('<span class="muted">—</span>')
    label = escape(text if text is not None else ref)
    links = links if links is not None else context.get("links")
    href = ref_href(context, ref, links)
    if href is not None:
        return Markup(f'<a class="ref" href="{escape(href)}">{label}</a>')
    if links is not None and links.tracker:
        return Markup(
            f'<code class="ref">{label}</code> <small class="not-in-tracker" '
            'title="the tracker has no such issue or epic">not in the tracker</small>'
        )
    return Markup(f'<code class="ref">{label}</code>')


TEMPLATES.env.filters["safe_url"] = safe_url
TEMPLATES.env.filters["path_quote"] = path_quote
TEMPLATES.env.filters["ref_href"] = ref_href
TEMPLATES.env.filters["ref_link"] = ref_link
TEMPLATES.env.globals["ref_link"] = ref_link
TEMPLATES.env.globals["ref_href"] = ref_href


def lint_readiness(
    plans: list[Plan], handbook: Handbook, open_threads: Mapping[str, int]
) -> dict[str, Readiness]:
    """plan id -> (errors, warnings) judged at ``--require ready``, in one lint run."""
    from secplan.lint import engine

    out: dict[str, Readiness] = {p.id: (0, 0) for p in plans}
    findings = engine.lint_plans(handbook, plans, require_ready=True, open_threads=open_threads)
    for f in findings:
        if f.plan in out and f.severity in ("error", "warning"):
            errors, warnings = out[f.plan]
            out[f.plan] = (
                (errors + 1, warnings) if f.severity == "error" else (errors, warnings + 1)
            )
    return out


#: Seconds between looks for a tracker database that did not exist yet (an apply creates it).
MISSING_RECHECK = 1.0


class WebContext:
    """What every route needs: the handbook cache, the tracker/store (lazily), the auth."""

    def __init__(
        self,
        root: Path,
        config: Config,
        database_url: str | None,
        auth: Auth,
        scan_interval: float,
        plans: PlansCache | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.database_url = database_url
        self.auth = auth
        # ``secplan build`` brings its own cache (static-site links, remembered readiness).
        self.plans = plans or PlansCache(
            root,
            config,
            scan_interval=scan_interval,
            readiness=lint_readiness,
        )
        self._backend: Backend | None = None
        self._opened_at = 0.0
        self._open_lock = threading.Lock()
        #: (monotonic time, web.data.TrackerView, its fingerprint) of the last tracker read.
        self.index_cache: tuple[float, Any, str] | None = None
        self.index_lock = threading.Lock()
        self.store_error: str | None = None
        #: Bumped when the tracker snapshot or the review threads change (page cache keys).
        self.tracker_version = 0
        self.tracker_stamp: object = None  # web.data: the database file's stamp at the last read
        self.reviews_version = 0
        #: merge request threads ``review comments`` cached (GitLab backend only)
        self.mr_threads = MrThreads(root) if config.backend == "gitlab" else None
        self.pages = page_cache.PageCache()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def page_version(self) -> tuple[int, int, int]:
        """What every page depends on: handbook, tracker snapshot, review threads.

        Without the watcher thread this looks at the disk (and the tracker, at most once per
        ``INDEX_TTL``) first; with it, it only reads three counters.
        """
        if not self.plans.watching:
            from secplan.web.data import issue_index

            self.plans.refresh()
            issue_index(self)
            self.refresh_mr_threads()
        return (self.plans.version, self.tracker_version, self.reviews_version)

    def refresh_mr_threads(self) -> None:
        """Re-read the cached merge request threads if they changed (pages show them)."""
        if self.mr_threads is not None and self.mr_threads.refresh():
            self.reviews_version += 1

    def start_watcher(self) -> None:
        """Rescan the handbook and re-read the tracker in a background thread."""
        from secplan.web.data import refresh_tracker

        def tracker_too() -> None:
            refresh_tracker(self)
            self.refresh_mr_threads()

        self.plans.watching = True
        refresh_tracker(self)  # the first snapshot before the first request
        self.refresh_mr_threads()
        self._watcher = threading.Thread(
            target=self.plans.watch,
            args=(self._stop,),
            kwargs={"also": tracker_too},
            name="secplan-watcher",
            daemon=True,
        )
        self._watcher.start()

    def stop_watcher(self) -> None:
        """Stop the background thread (and wait for it)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
            self._watcher = None
        self.plans.watching = False

    def _open(self, writable: bool = False) -> Backend | None:
        """The backend, opened once. Reading never creates a database: without one the pages
        show no tracker data; the first write (a review thread) creates it."""
        with self._open_lock:
            backend = self._backend
            missing = backend is not None and backend.missing is not None
            if backend is not None and not missing:
                return backend
            if missing and not writable and not self._may_exist_now(backend):
                return backend
            if self.store_error is not None:
                return None
            try:
                fresh = open_backend(
                    self.config, database_url=self.database_url, read_only=not writable
                )
            except (SecplanError, SQLAlchemyError) as exc:  # plans still show
                # Shown on the 503 pages: never the database URL's password.
                self.store_error = redact(
                    f"tracker unavailable: {exc}", url_secrets(self.database_url or "")
                )
                return None
            if backend is not None:
                backend.close()
            self._backend = fresh
            self._opened_at = time.monotonic()
            self.index_cache = None
            return fresh

    def _may_exist_now(self, backend: Backend | None) -> bool:
        """Whether the database that was missing may exist now (an apply since created it)."""
        gone = backend.missing if backend is not None else None
        if gone is None:
            return True
        if gone.database is not None:
            return gone.database.exists()
        return time.monotonic() - self._opened_at >= MISSING_RECHECK

    @property
    def tracker(self) -> Tracker | None:
        """The tracker, or None when it cannot be used."""
        backend = self._open()
        return backend.tracker if backend is not None else None

    @property
    def store(self) -> Store | None:
        """secplan's store (review threads) for reading, or None."""
        backend = self._open()
        return backend.store if backend is not None else None

    def writable_store(self) -> Store | None:
        """secplan's store for writing (created on the first write), or None."""
        backend = self._open(writable=True)
        return backend.store if backend is not None else None

    def sync_state(self) -> StoreState | None:
        """Sync's records for the tracker (read-only use), or None."""
        backend = self._open()
        return backend.state() if backend is not None else None

    def close(self) -> None:
        """Release the database connections."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def get_ctx(request: Request) -> WebContext:
    """The app's :class:`WebContext` (FastAPI dependency)."""
    ctx: WebContext = request.app.state.ctx
    return ctx


def page_globals(ctx: WebContext, links: ServerLinks | SiteLinks) -> dict[str, Any]:
    """What every template gets besides its page's context: links, version, handbook name.

    ``links.static_site`` tells the templates to leave out forms and live-only parts.
    """
    return {
        "title": "secplan",
        "links": links,
        "static_site": links.static_site,
        "version": __version__,
        "root_name": ctx.root.name,
        "csrf_token": "",
        "user": None,
    }


def ref_kinds(ctx: WebContext) -> Callable[[str], str | None] | None:
    """Which refs the tracker has ("epic" / "issue"), read lazily from the shared snapshot on
    the first ref a page links; None without a tracker or before its database exists (a
    handbook never synced: its refs are unknown, not missing)."""
    backend = ctx._open()
    if backend is None or backend.missing is not None:
        return None
    found: list[Any] = []

    def kind(ref: str) -> str | None:
        if not found:
            from secplan.web.data import issue_index

            found.append(issue_index(ctx).actual)
        actual = found[0]
        if ref in actual.epics_by_ref:
            return "epic"
        return "issue" if ref in actual.issues_by_ref else None

    return kind


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a page with the CSRF token and the common context filled in."""
    ctx = get_ctx(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            **page_globals(ctx, ServerLinks(ctx.plans.known, ref_kinds(ctx))),
            "csrf_token": (
                page_cache.CSRF_PLACEHOLDER
                if getattr(request.state, "cache_page", False)
                else security.csrf_token_for(request)
            ),
            "user": getattr(request.state, "user", None),
            **context,
        },
        status_code=status_code,
    )
    return response


def create_app(
    root: Path,
    database_url: str | None = None,
    auth: Auth | None = None,
    *,
    config: Config | None = None,
    scan_interval: float = 1.0,
    hosts: Iterable[str] = (),
) -> FastAPI:
    """Build the web app for the handbook at ``root``.

    ``auth`` defaults to what the configuration and environment provide (``web_users``,
    ``SECPLAN_WEB_TOKENS``, ``SECPLAN_WEB_USERS``); with no auth every request is allowed,
    which ``secplan serve`` only permits on loopback. ``hosts`` are the host names requests may
    name besides the loopback ones and ``SECPLAN_WEB_HOSTS`` (``secplan serve`` passes its
    ``--host``).
    """
    root = root.resolve()
    config = config or load_config(root)
    if auth is None:
        auth = Auth.from_sources(config.web_users)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Open the database (and run its migrations) before the first request, not during it.
        ctx: WebContext = app.state.ctx
        _ = ctx.tracker
        if 0 < ctx.plans.scan_interval < float("inf"):
            ctx.start_watcher()
        yield
        ctx.stop_watcher()
        ctx.close()

    app = FastAPI(
        lifespan=lifespan,
        title="secplan",
        version=__version__,
        description="Security plans, their epics, issues, progress and review threads.",
        docs_url=None,  # the Swagger page needs third-party scripts the CSP forbids
        redoc_url=None,
    )
    app.state.ctx = WebContext(
        root, config, database_url or config.database_url, auth, scan_interval
    )
    allowed = security.allowed_hosts(extra=hosts)

    @app.middleware("http")
    async def _guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        ctx: WebContext = request.app.state.ctx
        refused = _refusal(request, allowed)
        if refused is not None:
            return refused
        if ctx.auth.enabled and not request.url.path.startswith("/static/"):
            client = request.client.host if request.client else ""
            if ctx.auth.throttled(client):
                return _plain(429, "too many wrong passwords; try again in a minute")
            # scrypt takes tens of milliseconds: never on the event loop.
            user = await run_in_threadpool(ctx.auth.authenticate, request)
            if user is None:
                response: Response = JSONResponse(
                    {"detail": "authentication required"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="secplan", charset="UTF-8"'},
                )
                response.headers.update(security.SECURITY_HEADERS)
                return response
            request.state.user = user
        if page_cache.cacheable_request(request):
            response = await _through_cache(request, ctx, call_next)
        else:
            response = await call_next(request)
        for name, value in security.SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        security.set_csrf_cookie(request, response)
        return response

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        # Runs outside the middleware above: the headers must be set here.
        return _plain(500, "internal server error")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = redact(exc.detail) if isinstance(exc.detail, str) else exc.detail
        if _wants_json(request):
            return JSONResponse(
                {"detail": detail}, status_code=exc.status_code, headers=exc.headers
            )
        return render(
            request,
            "error.html",
            status_code=exc.status_code,
            title=f"{exc.status_code}",
            status=exc.status_code,
            detail=detail,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    routes = route_modules()
    from secplan.web import routes_docs

    routes_docs.mount_assets(app)
    for module in routes:
        app.include_router(module.router)
    return app


def route_modules() -> list[Any]:
    """The route modules, in the order their routers are included (imported here: they
    import this module).

    Order matters: the plan routes with suffixes (.json, /progress, /threads) come before
    the catch-all plan page, because plan ids may contain "/".
    """
    from secplan.web import (
        routes_catalog,
        routes_docs,
        routes_issues,
        routes_plans,
        routes_reviews,
        routes_roadmap,
        routes_tracker,
    )

    return [
        routes_catalog,
        routes_reviews,
        routes_tracker,
        routes_issues,
        routes_roadmap,
        routes_docs,
        routes_plans,
    ]


async def _through_cache(
    request: Request, ctx: WebContext, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The page from the page cache, or rendered by its route (and kept when it may be)."""
    version = (
        ctx.page_version() if ctx.plans.watching else await run_in_threadpool(ctx.page_version)
    )
    user = getattr(request.state, "user", None)
    accept_html = "text/html" in request.headers.get("accept", "")
    key = (request.url.path, request.url.query, str(user), accept_html, version)
    token = security.csrf_token_for(request)
    page = ctx.pages.get(key)
    if page is not None:
        return page_cache.answer(request, page, token)
    request.state.cache_page = True  # render() writes the placeholder instead of the token
    response = await call_next(request)
    if not response.headers.get("content-type", "").startswith(("text/html", "application/json")):
        return response  # assets, SVG: streamed as the route made them
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    if page_cache.cacheable_response(response):
        return page_cache.answer(request, ctx.pages.put(key, body, headers), token)
    out = Response(
        body.replace(page_cache.CSRF_PLACEHOLDER.encode(), token.encode()),
        status_code=response.status_code,
    )
    for name, value in headers:
        out.headers.append(name, value)
    return out


def _plain(status: int, detail: str) -> Response:
    response = JSONResponse({"detail": detail}, status_code=status)
    response.headers.update(security.SECURITY_HEADERS)
    return response


def _refusal(request: Request, allowed: frozenset[str]) -> Response | None:
    """The response refusing a request from elsewhere: a host this server does not answer to
    (421), or a POST from another origin (403); None when the request may go on."""
    if not security.host_ok(request, allowed):
        return _plain(421, "unknown host; see SECPLAN_WEB_HOSTS")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not security.origin_ok(request):
        return _plain(403, "cross-origin request refused")
    return None


def _wants_json(request: Request) -> bool:
    """JSON errors for the JSON twins and for API clients; HTML pages for browsers."""
    if request.url.path.endswith(".json"):
        return True
    return "text/html" not in request.headers.get("accept", "")
