"""Database and file-system failures as :class:`~secplan.errors.SecplanError`\\ s.

A full disk, a damaged schema or a read-only database can surface in any command, from deep
inside SQLAlchemy or the OS. The CLI hands whatever escapes a command to :func:`as_error`, which
says what happened in one line (through the shared secrets redactor) with a hint, instead of a
traceback. Every write secplan makes is its own transaction and every file it writes is replaced
atomically, so after any of these failures the data is as the last finished write left it.
"""

from __future__ import annotations

import errno
import re
import sys

from secplan.errors import SecplanError, TrackerError
from secplan.redact import redact

_MISSING_TABLE = re.compile(
    r"no such table: (?P<sqlite>\w+)|relation \"(?P<pg>[\w.]+)\" does not exist", re.IGNORECASE
)
_MISSING_COLUMN = re.compile(
    r"no such column: (?P<sqlite>[\w.]+)|column \"?(?P<pg>[\w.]+)\"? does not exist", re.IGNORECASE
)
_FULL = ("database or disk is full", "no space left on device", "disk full", "could not extend")
_READ_ONLY = ("attempt to write a readonly database", "read-only file system", "readonly database")

_DAMAGED_HINT = (
    "The database's schema is marked up to date but has been changed since (a dropped or "
    "altered table). Restore it from a backup; secplan creates tables only in a new database."
)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def as_error(exc: BaseException) -> SecplanError | None:
    """``exc`` (a database or OS error) as a user-facing error; None for anything else."""
    if isinstance(exc, OSError):
        return _os_error(exc)
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    if not isinstance(exc, SQLAlchemyError):
        return None
    line = redact(_first_line(exc))
    low = line.lower()
    if any(word in low for word in _FULL):
        return _disk_full(line)
    if any(word in low for word in _READ_ONLY):
        return TrackerError(
            f"the database is read-only: {line}",
            hint="Commands that change the tracker (apply, issue create, ...) need write access "
            "to the database and its folder; plan, coverage, status and the list commands read "
            "it as it is.",
        )
    m = _MISSING_TABLE.search(line)
    if m:
        table = m["sqlite"] or m["pg"]
        return TrackerError(f"the database has no table '{table}'", hint=_DAMAGED_HINT)
    m = _MISSING_COLUMN.search(line)
    if m:
        column = m["sqlite"] or m["pg"]
        return TrackerError(f"the database has no column '{column}'", hint=_DAMAGED_HINT)
    return TrackerError(
        f"database error: {line}",
        hint="Check the database (--database-url / SECPLAN_DATABASE_URL) and run the command "
        "again; what was written before this error is kept.",
    )


def _disk_full(line: str) -> SecplanError:
    return TrackerError(
        f"the disk is full: {line}",
        hint="Free some space and run the command again: every change written before this one "
        "is recorded, and apply goes on from there.",
    )


def _os_error(exc: OSError) -> SecplanError:
    where = f" {exc.filename}" if exc.filename else ""
    reason = redact(exc.strerror or str(exc))
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _disk_full(f"cannot write{where}: {reason}")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return SecplanError(
            f"cannot write{where}: {reason}",
            hint="Run the command where you may write, or use a read-only command.",
        )
    return SecplanError(
        f"cannot use{where}: {reason}", hint="Check the file and run the command again."
    )
