"""Web security: response headers, CSRF tokens, and authentication (tokens or users).

- Every response carries a strict Content-Security-Policy (no inline script, no framing).
- Every form carries a CSRF token (double-submit: a random cookie plus the same value in the form);
  a POST without a matching pair is refused with 403.
- Authentication is optional on loopback and required elsewhere (``secplan serve`` refuses to bind
  a non-loopback host without it). Tokens come from ``SECPLAN_WEB_TOKENS`` (comma separated);
  users from ``web_users`` in the configuration or ``SECPLAN_WEB_USERS`` (``name:hash`` pairs),
  with passwords hashed by :func:`hash_password` (scrypt, stdlib only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

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


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@dataclass
class Auth:
    """Who may use the web UI. Empty = no authentication (loopback only)."""

    token_digests: list[bytes] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # name -> password hash
    # Verified (user, sha256(password)) pairs, so scrypt runs once per user, not per request.
    _verified: set[tuple[str, bytes]] = field(default_factory=set, repr=False)

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
        return auth

    def authenticate(self, request: Request) -> str | None:
        """The user name a request authenticates as (``token`` for a token), or None."""
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
            if hashed is None:
                return None
            key = (name, _sha(password + "\0" + hashed))
            if key in self._verified:
                return name
            if verify_password(password, hashed):
                self._verified.add(key)
                return name
        return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def csrf_token_for(request: Request) -> str:
    """The CSRF token of this browser (from its cookie), or a new one to set."""
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        token = cookie if len(cookie) == 43 else secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return str(token)


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the CSRF cookie when the browser does not have this token yet."""
    token = getattr(request.state, "csrf_token", None)
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """True when the submitted token matches the browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    submitted = submitted or request.headers.get(CSRF_HEADER, "")
    if not cookie or not submitted:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII strings, and both values are untrusted.
    return hmac.compare_digest(cookie.encode(), submitted.encode())
