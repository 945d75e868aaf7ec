"""The HTTP layer: a python-gitlab ``Gitlab`` instance's session, with our own retries.

Why our own: python-gitlab retries every verb alike, but a POST whose answer was lost may have
created the object, so a blind retry would duplicate it. Here GETs and queries are retried on
429 (obeying ``Retry-After``/``RateLimit-Reset``), 5xx and timeouts with backoff; a write whose
outcome is unknown (a 5xx or a timeout) is only sent again after the caller's ``find_existing``
callback looked for the object by its marker and did not find it. 429 means GitLab did not
process the request, so a rate-limited write is simply sent again after the wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import gitlab
import requests

from secplan.errors import TrackerError
from secplan.tracker.gitlab.errors import error_for_status
from secplan.tracker.gitlab.redact import Redactor, install_log_filter, remove_log_filter
from secplan.tracker.gitlab.stats import ApiStats, Pacer

log = logging.getLogger("secplan.tracker.gitlab")

PER_PAGE = 100
_TRANSIENT = {500, 502, 503, 504, 520, 521, 522, 523, 524}
#: Longest single wait we accept from a Retry-After / RateLimit-Reset header.
MAX_WAIT = 120.0


def encode_path(path: str) -> str:
    """A project or group path as GitLab's ``:id`` (URL-encoded full path)."""
    return quote(path.strip("/"), safe="")


class GitLabClient:
    """Requests to one GitLab instance with retries, pacing, counting and redaction."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        pace: bool = True,
        stats: ApiStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redactor = Redactor(token)
        self._gl = gitlab.Gitlab(url, private_token=token, timeout=timeout)
        self.url = self._gl.url.rstrip("/")
        self.api_url = self._gl.api_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.stats = stats or ApiStats()
        self._sleep = sleep
        self.pacer = Pacer(self.stats, enabled=pace, sleep=sleep)
        self._log_filter = install_log_filter(self.redactor)

    def close(self) -> None:
        """Close the session and detach the log filter."""
        self._gl.session.close()
        remove_log_filter(self._log_filter)

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        what: str,
        role: str = "Reporter",
        find_existing: Callable[[], Any] | None = None,
        pace: str | None = None,
        safe: bool | None = None,
        url: str | None = None,
        raw: bool = False,
    ) -> tuple[int, Any, dict[str, str]]:
        """Send one request, retrying as the module docstring says. ``safe`` = may be sent
        again when its outcome is unknown (default: GET); ``raw``: a success's body is the
        response text, not JSON (a file's content). Returns ``(status, body, headers)``;
        when ``find_existing`` found the object after a lost answer, the body is what it
        returned and the status 200."""
        safe = method == "GET" if safe is None else safe
        full = url or f"{self.api_url}/{path.lstrip('/')}"
        headers = {"PRIVATE-TOKEN": self._token}
        attempt = 0
        while True:
            self.pacer.wait(pace)
            if method == "GET" or (safe and url is not None):
                self.stats.reads += 1
            else:
                self.stats.writes += 1
            # Handle failures outside the except blocks, so no requests exception (whose text
            # may echo headers) stays attached to ours as __context__.
            resp, reason, failed = None, "", False
            try:
                resp = self._gl.session.request(
                    method, full, params=params, json=json, headers=headers, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                reason = f"{type(exc).__name__}: {self.redactor.redact(exc)}"
            except requests.RequestException as exc:
                reason, failed = self.redactor.redact(exc), True
            if failed:
                raise TrackerError(f"GitLab request failed ({what}): {reason}")
            if resp is None:
                self._unknown_outcome(attempt, what, reason, safe)
                if not safe and find_existing is not None:
                    found = find_existing()
                    if found is not None:
                        log.info("%s: the lost request had succeeded; not sent again", what)
                        return 200, found, {}
                attempt = self._next(attempt, what, reason, None)
                continue
            status = resp.status_code
            # a file is bytes; plans are UTF-8 whatever charset (if any) the answer names
            ok_raw = raw and status < 300
            body = resp.content.decode("utf-8", "replace") if ok_raw else _body(resp)
            if status == 429:
                wait = retry_after(resp.headers)
                attempt = self._next(attempt, what, "429 Too Many Requests", wait, status, body)
                continue
            if status in _TRANSIENT:
                reason = f"HTTP {status}"
                self._unknown_outcome(attempt, what, reason, safe)
                if not safe and find_existing is not None:
                    found = find_existing()
                    if found is not None:
                        return 200, found, {}
                attempt = self._next(attempt, what, reason, None, status, body)
                continue
            if status >= 400:
                raise error_for_status(
                    status, body, what=what, redactor=self.redactor, role=role
                ) from None
            return status, body, dict(resp.headers)

    def _unknown_outcome(self, attempt: int, what: str, reason: str, safe: bool) -> None:
        if attempt >= self.max_retries:
            return
        log.warning("%s: %s; %s", what, reason, "retrying" if safe else "checking before retry")

    def _next(
        self,
        attempt: int,
        what: str,
        reason: str,
        wait: float | None,
        status: int | None = None,
        body: Any = None,
    ) -> int:
        """Count a retry and sleep before it, or raise once retries are used up."""
        if attempt >= self.max_retries:
            if status is not None:
                raise error_for_status(
                    status, body, what=what, redactor=self.redactor, retry_after=wait
                ) from None
            raise TrackerError(
                f"GitLab did not answer ({what}) after {attempt + 1} attempts: {reason}",
                hint="Check the network and gitlab_url; rerun resumes where it stopped.",
            ) from None
        delay = wait if wait is not None else self.backoff * (2**attempt)
        self.stats.retries += 1
        if delay > 0:
            self.stats.waits += 1
            self.stats.waited_seconds += delay
            self._sleep(delay)
        return attempt + 1

    # -- conveniences -----------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None, *, what: str) -> Any:
        """The JSON body of a GET."""
        return self.request("GET", path, params=params, what=what)[1]

    def get_or_none(self, path: str, params: dict[str, Any] | None = None, *, what: str) -> Any:
        """The JSON body of a GET, or None on 404."""
        from secplan.errors import NotFoundError

        try:
            return self.get(path, params, what=what)
        except NotFoundError:
            return None

    def pages(self, path: str, params: dict[str, Any] | None = None, *, what: str) -> Iterator[Any]:
        """Every element of a paginated listing, 100 per request, page by page
        (``X-Next-Page``)."""
        query = dict(params or {})
        query["per_page"] = PER_PAGE
        page = "1"
        while page:
            query["page"] = page
            _status, body, headers = self.request("GET", path, params=query, what=what)
            yield from body or []
            page = _header(headers, "x-next-page")
            if len(body or []) < PER_PAGE:
                break

    def graphql(
        self,
        document: str,
        variables: dict[str, Any],
        *,
        what: str,
        mutation: bool = False,
        find_existing: Callable[[], Any] | None = None,
        pace: str | None = None,
    ) -> Any:
        """``data`` of a GraphQL request. Top-level ``errors`` raise. A mutation is a write and
        never sent again blindly."""
        _status, body, _h = self.request(
            "POST",
            "",
            url=f"{self.url}/api/graphql",
            json={"query": document, "variables": variables},
            what=what,
            safe=not mutation,
            find_existing=(lambda: _wrap_found(find_existing)) if find_existing else None,
            pace=pace,
        )
        if isinstance(body, dict) and "__found__" in body:
            return body
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            text = "; ".join(str(e.get("message", e)) for e in errors)
            raise TrackerError(f"GitLab GraphQL error ({what}): {self.redactor.redact(text)}")
        return (body or {}).get("data") or {}


def _wrap_found(find_existing: Callable[[], Any] | None) -> Any:
    found = find_existing() if find_existing else None
    return None if found is None else {"__found__": found}


def _header(headers: dict[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value.strip()
    return ""


def _body(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return resp.text


def retry_after(headers: Any) -> float:
    """Seconds to wait after a 429: ``Retry-After`` (seconds or an HTTP date), else
    ``RateLimit-Reset`` (a Unix time), else a minute; capped at :data:`MAX_WAIT`."""
    value = headers.get("Retry-After")
    if value:
        try:
            return min(max(float(value), 0.0), MAX_WAIT)
        except ValueError:
            try:
                return min(max(parsedate_to_datetime(value).timestamp() - time.time(), 0), MAX_WAIT)
            except (TypeError, ValueError):
                pass
    reset = headers.get("RateLimit-Reset")
    if reset:
        try:
            return min(max(float(reset) - time.time(), 0.0), MAX_WAIT)
        except ValueError:
            pass
    return 60.0
