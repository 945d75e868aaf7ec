"""GitLab's answers turned into secplan's error contract (``secplan.errors``)."""

from __future__ import annotations

import json
from typing import Any

from secplan.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    TrackerError,
)
from secplan.tracker.gitlab.redact import Redactor

SCOPE_HINT = (
    "The token needs the `api` scope (a personal, group or project access token with `api`); "
    "`read_api` cannot write."
)


class TokenRejectedError(ForbiddenError):
    """The token itself was refused (401, or a 403 for a missing scope): nothing else will
    work either, unlike a 403 for one project or feature."""


CONFIDENTIAL_HINT = (
    "Make the issue confidential (the default; drop `confidential: false` from the item), or make "
    "the epic non-confidential in GitLab."
)


def is_confidential_refusal(text: str) -> bool:
    """GitLab's refusal of a non-confidential issue under a confidential epic (REST's
    "Cannot assign a confidential epic to a non-confidential issue", the work items' "cannot
    assign a non-confidential issue to a confidential parent")."""
    low = text.lower()
    return "confidential" in low and ("parent" in low or "confidential epic" in low)


def gitlab_message(body: Any) -> str:
    """GitLab's error text from a JSON error body: ``message`` (a string, or a dict of field
    errors as in ``{"message": {"title": ["has already been taken"]}}``) or ``error``."""
    if isinstance(body, dict):
        msg = body.get("message", body.get("error_description", body.get("error")))
        if isinstance(msg, dict):
            parts = []
            for key, value in msg.items():
                values = value if isinstance(value, list) else [value]
                parts.append(f"{key} {', '.join(str(v) for v in values)}")
            return "; ".join(parts)
        if isinstance(msg, list):
            return "; ".join(str(m) for m in msg)
        if msg is not None:
            return str(msg)
    if isinstance(body, (bytes, str)):
        return (body.decode(errors="replace") if isinstance(body, bytes) else body)[:500]
    return json.dumps(body)[:500]


def error_for_status(
    status: int,
    body: Any,
    *,
    what: str,
    redactor: Redactor,
    role: str = "Reporter",
    retry_after: float | None = None,
) -> TrackerError | NotFoundError:
    """The error for a GitLab refusal of ``what`` (a short description such as ``create issue in
    sec/planning``), its message redacted."""
    text = redactor.redact(gitlab_message(body))
    what = redactor.redact(what)
    if status == 401:
        return TokenRejectedError(
            f"GitLab rejected the token ({status} Unauthorized) on {what}",
            hint="The token is wrong, expired or revoked. " + SCOPE_HINT,
        )
    if status == 403:
        scope = body.get("scope") if isinstance(body, dict) else None
        if isinstance(body, dict) and body.get("error") == "insufficient_scope":
            return TokenRejectedError(
                f"the token lacks the `{scope or 'api'}` scope needed to {what}",
                hint=SCOPE_HINT,
            )
        return ForbiddenError(
            f"GitLab forbids {what}: {text}",
            hint=f"The token's user needs at least the {role} role there. " + SCOPE_HINT,
        )
    if status == 404:
        return NotFoundError(
            f"GitLab has no {what} (404), or the token may not see it",
            hint="Check the path (paths are case-insensitive) and that the token's user is a "
            "member.",
        )
    if status == 429:
        return RateLimitedError(
            f"GitLab kept rate-limiting {what} after every retry",
            retry_after=retry_after,
            hint="Wait a minute and run the command again; it resumes where it stopped.",
        )
    if status in (400, 409, 422):
        if is_confidential_refusal(text):
            return ConflictError(
                f"GitLab refused to {what}: a non-confidential issue cannot go under a "
                f"confidential epic ({text})",
                hint=CONFIDENTIAL_HINT,
            )
        return ConflictError(f"GitLab refused to {what}: {text}")
    return TrackerError(f"GitLab failed to {what}: HTTP {status}: {text}")
