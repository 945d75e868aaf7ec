"""Errors secplan reports to people: plain messages, a location, and a hint.

Every error that reaches the CLI is a :class:`SecplanError`; the CLI prints it as
``Error: <message>`` (plus ``Hint: <hint>``) and exits with its ``exit_code``, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class SecplanError(Exception):
    """An error meant for the user. ``exit_code`` 1 = failure, 2 = usage/config error."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: Path | str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path
        self.line = line

    def location(self) -> str:
        """``path:line`` (or ``path``, or empty) for the front of the message."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


class UsageError(SecplanError):
    """Bad arguments or configuration (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """``secplan.toml`` / ``[tool.secplan]`` is invalid. ``problems`` lists every one found."""

    def __init__(self, problems: list[str], *, path: Path | str | None = None) -> None:
        self.problems = problems
        super().__init__(
            "invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems),
            path=path,
            hint="See docs/plan-format.md, section 'Configuration'.",
        )


class NotFoundError(SecplanError):
    """A plan, issue, epic or milestone that was named does not exist."""


class UnknownPlanError(NotFoundError):
    """A plan named on the command line does not exist: a usage error, as in ``secplan check``."""

    exit_code = 2


class TrackerError(SecplanError):
    """The tracker refused or failed an operation."""


class ForbiddenError(TrackerError):
    """The token or user may not do this (HTTP 401/403): stop, the next call would fail too."""


class RateLimitedError(TrackerError):
    """The tracker kept asking us to slow down after every retry; ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ConflictError(TrackerError):
    """The tracker refused a write because of the object's state (a title already taken, a
    non-confidential issue under a confidential epic, an issue already promoted)."""


class NoDatabaseError(SecplanError):
    """A read-only command found no tracker database (nothing is created to answer it)."""

    #: the SQLite file that would be the database (None for a server database)
    database: Path | None = None


class LockedError(SecplanError):
    """Another secplan process holds the lock this command needs."""
