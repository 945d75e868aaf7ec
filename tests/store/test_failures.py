"""Database and OS failures as user-facing errors (the CLI's last resort before a traceback)."""

from __future__ import annotations

import errno
import sqlite3

import sqlalchemy as sa

from secplan.store.failures import as_error


def _db_error(message: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))


def test_database_failures_name_what_happened():
    full = as_error(_db_error("database or disk is full"))
    assert full is not None and str(full).startswith("the disk is full") and full.hint
    table = as_error(_db_error("no such table: sync_state"))
    assert table is not None and str(table) == "the database has no table 'sync_state'"
    pg = as_error(_db_error('relation "sync_state" does not exist\nLINE 2: FROM sync_state'))
    assert pg is not None and str(pg) == "the database has no table 'sync_state'"
    ro = as_error(_db_error("attempt to write a readonly database"))
    assert ro is not None and "read-only" in str(ro)
    other = as_error(_db_error("connection to postgresql://u:hunter2@h/db?password=s3cret lost"))
    assert other is not None and "hunter2" not in str(other) and "s3cret" not in str(other)


def test_os_failures_name_the_file():
    full = as_error(OSError(errno.ENOSPC, "No space left on device", "/h/plan.md"))
    assert full is not None and "the disk is full" in str(full) and "/h/plan.md" in str(full)
    ro = as_error(OSError(errno.EROFS, "Read-only file system", "/h/index.md"))
    assert ro is not None and str(ro) == "cannot write /h/index.md: Read-only file system"


def test_other_exceptions_are_left_alone():
    assert as_error(ValueError("a bug")) is None
    assert as_error(KeyError("x")) is None
