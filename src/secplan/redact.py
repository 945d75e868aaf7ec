"""The one secrets redactor: every error secplan prints or serves goes through :func:`redact`.

It masks what a message can carry without anyone meaning it to: the password of a URL's user
(``scheme://user:password@host``), query and connection-string values whose key names a secret
(``?password=``, ``sslpassword=``, ``private_token=``, any key ending in ``password``, ``token``
or ``secret``), and any literal secret the caller knows (a token it read). Configuration errors
never echo values at all; this is the net under everything else.

The GitLab backend's :class:`secplan.tracker.gitlab.redact.Redactor` adds the credential
headers of HTTP requests on top of this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

#: ``scheme://user:password@``: the password (up to the last ``@`` before the host) is masked.
#: The user part stops at ``/``, ``@`` and blanks so a path's ``:`` is never taken for one; a
#: scheme starts only where a run of scheme characters starts (linear time on ``a.a.a...``).
_USERINFO = re.compile(
    r"(?i)(?<![a-z0-9+.\-])([a-z][a-z0-9+.\-]*://[^\s/:@'\"<>]*:)([^\s/'\"<>]*)@"
)
#: A key that names a secret: ends in password, passwd, pwd, token or secret (``sslpassword``,
#: ``private_token``, ``client_secret``...).
_SECRET_KEY = r"[a-z0-9_.\-]*(?:password|passwd|pwd|token|secret)"
#: ``key=value`` in a URL query (``?``/``&``/``;`` before it) or a libpq connection string
#: (a blank or the start before it); the value ends at ``&``, ``;``, a blank or a quote.
_KEY_VALUE = re.compile(
    rf"(?i)((?:^|[?&;\s,(\[{{]){_SECRET_KEY}\s*=\s*)('[^']*'|\"[^\"]*\"|[^&;\s'\"<>)\]}},]+)"
)
#: ``"password": "..."`` / ``'token': '...'`` in an echoed mapping or JSON.
_QUOTED_KEY = re.compile(rf"(?i)(['\"]{_SECRET_KEY}['\"]\s*:\s*)('[^']*'|\"[^\"]*\")")


def redact(text: object, secrets: Iterable[str] = (), *, mask: str = MASK) -> str:
    """``text`` as a string with URL passwords, secret-named values and ``secrets`` masked.

    Linear in the length of ``text``: every pattern starts only where a run of its characters
    starts, so no position is scanned more than a bounded number of times. Literal secrets
    shorter than 3 characters are left to the patterns (masking every "1" would garble text).
    """
    out = str(text)
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        out = out.replace(secret, mask)
    out = _USERINFO.sub(lambda m: f"{m[1]}{mask}@" if m[2] else m[0], out)
    out = _KEY_VALUE.sub(lambda m: f"{m[1]}{mask}", out)
    return _QUOTED_KEY.sub(lambda m: f"{m[1]}'{mask}'", out)


def redact_url(url: str) -> str:
    """A database or service URL fit to print: its password and secret query values masked."""
    return redact(url)


def url_secrets(url: str) -> list[str]:
    """The secret values a URL holds (its password, secret-named query values), so an error
    that echoes one of them out of context (a driver's message) can be masked too."""
    found: list[str] = []
    m = _USERINFO.search(url)
    if m and m[2]:
        found.append(m[2])
        if "%" in m[2]:
            from urllib.parse import unquote

            found.append(unquote(m[2]))
    for kv in _KEY_VALUE.finditer(url):
        value = kv[2].strip("'\"")
        if value:
            found.append(value)
            if "%" in value:
                from urllib.parse import unquote

                found.append(unquote(value))
    return found


class Redactor:
    """:func:`redact` with a fixed set of literal secrets (a token, a URL's password)."""

    def __init__(self, *secrets: str) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: object) -> str:
        """``text`` as a string with every known secret and credential value masked."""
        return redact(text, self.secrets)
