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


class LockedError(SecplanError):
    """Another secplan process holds the lock this command needs."""
