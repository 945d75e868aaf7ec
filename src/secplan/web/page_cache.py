"""Rendered pages kept in memory, keyed by what they show, with ETags and 304 answers.

A page depends on the loaded handbook (:attr:`PlansCache.version`), the tracker snapshot and
the review threads; :meth:`WebContext.page_version` names all three. A GET whose URL, user and
version were answered before gets the same bytes back without running its route, and a GET
whose ``If-None-Match`` names them gets ``304 Not Modified``.

Pages hold the browser's CSRF token in their forms, so they are rendered with a placeholder
(:data:`CSRF_PLACEHOLDER`) that is replaced by each browser's own token on the way out; the
ETag is made from the version key and that token, so one browser's ETag never matches another
browser's page. Only ``200`` HTML and JSON answers are kept, within a byte budget (least
recently used first out).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

#: Stands for the CSRF token in a cached page (letters only: autoescaping leaves it alone).
CSRF_PLACEHOLDER = "secplanCsrfTokenPlaceholder"
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()
#: Bytes of rendered pages kept (a 500-row catalog page is about 330 kB).
BUDGET = 16 * 1024 * 1024
_KEPT_TYPES = ("text/html", "application/json")
#: Headers of the route's response that are kept with the page (the rest are set per answer).
_KEPT_HEADERS = ("content-type", "content-security-policy", "cache-control")


@dataclass(frozen=True)
class CachedPage:
    """One rendered answer, CSRF token left out."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    tag: str  # digest of the key; the ETag adds the browser's token


class PageCache:
    """Least-recently-used store of rendered pages, safe to use from several threads."""

    def __init__(self, budget: int = BUDGET) -> None:
        self.budget = budget
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> CachedPage | None:
        """The page kept for ``key`` (and counts the hit or miss)."""
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: Hashable, body: bytes, headers: list[tuple[str, str]]) -> CachedPage:
        """Keep ``body`` for ``key``; the oldest pages go when the budget is exceeded."""
        kept = tuple((k, v) for k, v in headers if k.lower() in _KEPT_HEADERS)
        page = CachedPage(body, kept, hashlib.sha256(repr(key).encode()).hexdigest()[:32])
        if len(body) > self.budget:
            return page
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._pages[key] = page
            self._size += len(body)
            while self._size > self.budget and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self._size -= len(dropped.body)
        return page

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._pages.clear()
            self._size = 0


def cacheable_request(request: Request) -> bool:
    """GETs of pages and JSON twins; secplan's own static files have their own ETags."""
    return request.method == "GET" and not request.url.path.startswith("/static/")


def cacheable_response(response: Response) -> bool:
    """Whole-page answers worth keeping: 200 HTML or JSON (not assets, not errors)."""
    kind = response.headers.get("content-type", "")
    return response.status_code == 200 and kind.startswith(_KEPT_TYPES)


def etag(page: CachedPage, token: str) -> str:
    """The page's ETag for the browser whose CSRF token is ``token``."""
    return '"' + hashlib.sha256(f"{page.tag}:{token}".encode()).hexdigest()[:32] + '"'


def not_modified(request: Request, tag: str) -> bool:
    """True when the request's ``If-None-Match`` names ``tag`` (or is ``*``)."""
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    return tag in tags or "*" in tags


def answer(request: Request, page: CachedPage, token: str) -> Response:
    """The cached page for this browser: its bytes with its token, or a 304."""
    tag = etag(page, token)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if not_modified(request, tag):
        return Response(status_code=304, headers=headers)
    response = Response(page.body.replace(_PLACEHOLDER, token.encode()), headers=headers)
    for name, value in page.headers:
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-cache"  # always ask again, with If-None-Match
    return response
