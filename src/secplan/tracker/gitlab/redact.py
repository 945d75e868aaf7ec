"""One redactor for the token: every error, log line and message that leaves the GitLab backend
goes through :meth:`Redactor.redact`, so the token never reaches a terminal or a log file.

It is secplan's shared redactor (:mod:`secplan.redact`: URL passwords, secret-named query and
connection-string values, known secrets) plus the credential headers of HTTP requests."""

from __future__ import annotations

import logging
import re

from secplan import redact as shared

#: Header values that carry credentials, in any text that echoes a request.
_HEADER_VALUES = re.compile(
    r"(?i)(private-token|authorization|job-token|x-gitlab-token)(['\"]?\s*[:=]\s*['\"]?)"
    r"(bearer\s+|basic\s+)?[^\s'\",}]+"
)
MASK = "[REDACTED]"


class Redactor(shared.Redactor):
    """Removes the given secrets, and any credential header, URL password or secret-named
    query value, from text."""

    def redact(self, text: object) -> str:
        """``text`` as a string with every secret and credential value masked."""
        out = str(text)
        # Literal secrets first: a token may itself look like a header value's start.
        for secret in sorted(set(self.secrets), key=len, reverse=True):
            out = out.replace(secret, MASK)
        out = _HEADER_VALUES.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{MASK}", out)
        return shared.redact(out, mask=MASK)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites a record's message through a :class:`Redactor`."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redactor.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


#: Loggers that see requests: our own, python-gitlab's and urllib3's (which logs request lines).
WATCHED_LOGGERS = ("secplan.tracker.gitlab", "gitlab", "urllib3", "urllib3.connectionpool")


def install_log_filter(redactor: Redactor) -> RedactingFilter:
    """Attach a redacting filter to the loggers that see GitLab requests; returns it so
    :func:`remove_log_filter` can take it off again."""
    flt = RedactingFilter(redactor)
    for name in WATCHED_LOGGERS:
        logging.getLogger(name).addFilter(flt)
    return flt


def remove_log_filter(flt: RedactingFilter) -> None:
    """Detach a filter :func:`install_log_filter` attached."""
    for name in WATCHED_LOGGERS:
        logging.getLogger(name).removeFilter(flt)
