"""Web security: response headers, CSRF tokens, and authentication (tokens or users).

- Every response carries a strict Content-Security-Policy (no inline script, no framing).
- Requests must name an allowed host (``Host``): the loopback names, the address the server is
  bound to and the names configured in ``SECPLAN_WEB_HOSTS``; anything else is refused with 421
  (DNS rebinding: a page at ``http://evil.example:PORT`` resolving to 127.0.0.1 reads nothing).
- A POST whose ``Origin`` (or, without one, ``Referer``) is not this server is refused with 403.
- Every form carries a CSRF token bound to the browser's random cookie: the token is an HMAC of
  the cookie under a secret of the server process, so a cookie tossed in from another port
  without its token (which only this server can compute) is refused with 403.
- Wrong passwords are throttled per client; unknown users cost the same scrypt run as known
  ones (no user enumeration by timing); password checks run in a worker thread.
- Authentication is optional on loopback and required elsewhere (``secplan serve`` refuses to bind
  a non-loopback host without it). Tokens come from ``SECPLAN_WEB_TOKENS`` (comma separated);
  users from ``web_users`` in the configuration or ``SECPLAN_WEB_USERS`` (``name:hash`` pairs),
  with passwords hashed by :func:`hash_password` (scrypt, stdlib only).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

CSRF_COOKIE = "secplan_csrf"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# scrypt parameters: ~16 MiB of memory per hash, a few tens of milliseconds on a small machine.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash a password for ``web_users``: ``scrypt$N$r$p$salt$hash``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Check a password against a hash from :func:`hash_password` (or ``pbkdf2_sha256$...``)."""
    try:
        scheme, *parts = encoded.split("$")
        if scheme == "scrypt":
            n, r, p, salt, want = parts
            got = hashlib.scrypt(
                password.encode(),
                salt=_unb64(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                maxmem=128 * int(n) * int(r) * int(p) + 2**20,
                dklen=len(_unb64(want)),
            )
        elif scheme == "pbkdf2_sha256":
            iterations, salt, want = parts
            got = hashlib.pbkdf2_hmac(
                "sha256", password.encode(), _unb64(salt), int(iterations), len(_unb64(want))
            )
        else:
            return False
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(want))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so that costs as much as a wrong
    password. Made once, when users are configured (a scrypt run: not at import)."""
    return hash_password(secrets.token_urlsafe(16))


#: Wrong passwords one client may send per window before it is refused without a check.
MAX_FAILURES, FAILURE_WINDOW = 5, 60.0


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@dataclass
class Auth:
    """Who may use the web UI. Empty = no authentication (loopback only)."""

    token_digests: list[bytes] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # name -> password hash
    # Verified (user, sha256(password)) pairs, so scrypt runs once per user, not per request.
    _verified: set[tuple[str, bytes]] = field(default_factory=set, repr=False)
    # client -> times of its recent wrong passwords
    _failures: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.users:
            _dummy_hash()  # now, so the first unknown user costs no more than later ones

    @property
    def enabled(self) -> bool:
        """True when tokens or users are configured."""
        return bool(self.token_digests or self.users)

    @classmethod
    def from_sources(
        cls, users: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Auth:
        """Users from the configuration plus tokens/users from the environment."""
        env = os.environ if environ is None else environ
        auth = cls(users=dict(users or {}))
        for token in env.get("SECPLAN_WEB_TOKENS", "").split(","):
            if token.strip():
                auth.token_digests.append(_sha(token.strip()))
        for pair in env.get("SECPLAN_WEB_USERS", "").split(","):
            name, sep, hashed = pair.strip().partition(":")
            if sep and name and hashed:
                auth.users[name] = hashed
        if auth.users:
            _dummy_hash()  # now, so the first unknown user costs no more than later ones
        return auth

    def throttled(self, client: str) -> bool:
        """Whether ``client`` sent too many wrong passwords lately (it is refused unchecked)."""
        now = time.monotonic()
        with self._lock:
            recent = self._failures.get(client)
            while recent and now - recent[0] > FAILURE_WINDOW:
                recent.popleft()
            if recent is not None and not recent:
                del self._failures[client]
            return recent is not None and len(recent) >= MAX_FAILURES

    def _failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # bounded memory under a flood of clients
                self._failures.clear()
            self._failures.setdefault(client, deque(maxlen=MAX_FAILURES)).append(time.monotonic())

    def authenticate(self, request: Request) -> str | None:
        """The user name a request authenticates as (``token`` for a token), or None.

        Blocking (scrypt): call it from a worker thread. A wrong Basic password counts against
        the client (see :meth:`throttled`).
        """
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value:
            digest = _sha(value.strip())
            if any(hmac.compare_digest(digest, d) for d in self.token_digests):
                return "token"
            return None
        if scheme == "basic" and value:
            try:
                name, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            hashed = self.users.get(name)
            if hashed is not None:
                key = (name, _sha(password + "\0" + hashed))
                if key in self._verified:
                    return name
            # An unknown user costs the same scrypt run as a wrong password.
            if verify_password(password, hashed or _dummy_hash()) and hashed is not None:
                self._verified.add(key)
                return name
            self._failed(request.client.host if request.client else "")
        return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: Key of the CSRF tokens: new for every server process, so tokens never outlive it.
_CSRF_SECRET = secrets.token_bytes(32)


def _csrf_cookie(request: Request) -> str:
    """The browser's random CSRF cookie, or a new one to set."""
    cookie = getattr(request.state, "csrf_cookie", None)
    if cookie is None:
        sent = request.cookies.get(CSRF_COOKIE, "")
        cookie = sent if len(sent) == 43 else secrets.token_urlsafe(32)
        request.state.csrf_cookie = cookie
    return str(cookie)


def csrf_token_of(cookie: str) -> str:
    """The CSRF token forms carry for the browser holding ``cookie``."""
    return _b64(hmac.new(_CSRF_SECRET, cookie.encode(), hashlib.sha256).digest())


def csrf_token_for(request: Request) -> str:
    """The CSRF token forms of this browser carry: bound to its cookie by the server's key."""
    return csrf_token_of(_csrf_cookie(request))


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the CSRF cookie when the browser does not have it yet."""
    cookie = getattr(request.state, "csrf_cookie", None)
    if cookie and request.cookies.get(CSRF_COOKIE) != cookie:
        response.set_cookie(
            CSRF_COOKIE,
            cookie,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """True when the submitted token is the one this server made for the browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    submitted = submitted or request.headers.get(CSRF_HEADER, "")
    if not cookie or not submitted:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII strings, and both values are untrusted.
    return hmac.compare_digest(csrf_token_of(cookie).encode(), submitted.encode())


#: Host names every server answers to (besides the address it is bound to).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def allowed_hosts(bound: str | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names (no port, lower case, IPv6 without brackets) requests may name: the loopback
    names, ``bound`` and ``extra``, plus ``SECPLAN_WEB_HOSTS`` (comma separated)."""
    names = [*LOOPBACK_HOSTS, *(extra or ()), *os.environ.get("SECPLAN_WEB_HOSTS", "").split(",")]
    if bound and bound not in ("0.0.0.0", "::"):
        names.append(bound)
    return frozenset(n.strip().strip("[]").lower() for n in names if n.strip())


def _hostname(netloc: str) -> str | None:
    try:
        return urlsplit("//" + netloc).hostname
    except ValueError:
        return None


def host_ok(request: Request, allowed: frozenset[str]) -> bool:
    """Whether the request's ``Host`` header names this server (DNS rebinding defence)."""
    name = _hostname(request.headers.get("host", ""))
    return name is not None and ("*" in allowed or name.lower() in allowed)


def origin_ok(request: Request) -> bool:
    """Whether a state-changing request comes from this server's own pages: its ``Origin`` (or
    ``Referer``) names the same scheme, host and port as the request. Clients that send neither
    (scripts with a token) are judged by CSRF token and authentication alone."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    if source == "null":
        return False
    try:
        parts = urlsplit(source)
    except ValueError:
        return False
    host = request.headers.get("host", "")
    return parts.scheme == request.url.scheme and parts.netloc.lower() == host.lower()
