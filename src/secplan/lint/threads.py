"""What ``secplan check`` reads from secplan's store: open review threads per plan (SP501) and
the embedded tracker's epics (SP404).

A check is read-only and must start fast: a SQLite store is read with the standard library's
``sqlite3`` module, opened read-only (``file:...?mode=ro``), and SQLAlchemy is imported only for
a PostgreSQL URL. Nothing here creates, migrates or writes a database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

#: ``secplan.store.engine.default_database_path`` relative to the root, known without
#: importing the store (tests/lint/test_threads.py keeps the two in step).
DEFAULT_DATABASE = Path(".secplan", "secplan.db")

#: The query of ``secplan.store.reviews.open_thread_counts``, in SQL.
_OPEN_COUNTS = "SELECT plan_id, COUNT(*) FROM review_threads WHERE resolved = 0 GROUP BY plan_id"


def is_sqlite_url(database_url: str) -> bool:
    """Whether a database URL names SQLite (``sqlite://``, ``sqlite+driver://``)."""
    scheme, sep, _ = database_url.partition("://")
    return bool(sep) and scheme.split("+", 1)[0].lower() == "sqlite"


def sqlite_path(database_url: str) -> Path | None:
    """The file a ``sqlite://`` URL names; None for an in-memory database.

    Follows SQLAlchemy's reading: ``sqlite:///rel/path.db`` is relative to the working
    directory, ``sqlite:////abs/path.db`` absolute; a query string is ignored.
    """
    rest = database_url.partition("://")[2]
    if not rest.startswith("/"):
        return None  # sqlite://host/... names no file SQLAlchemy would open either
    database = unquote(rest[1:].split("?", 1)[0])
    if not database or database == ":memory:":
        return None
    return Path(database)


#: Every epic of the embedded tracker as ``group/sub&iid``.
_EPICS = (
    "SELECT namespaces.full_path, epics.iid FROM epics "
    "JOIN namespaces ON namespaces.id = epics.group_id"
)


def _read_sqlite(path: Path, sql: str) -> list[tuple[object, object]] | None:
    """The rows of ``sql`` in the SQLite store at ``path``, opened read-only; None when the
    file or its tables are not there (nothing is created)."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        db.execute("PRAGMA trusted_schema = OFF")
        return list(db.execute(sql))
    except sqlite3.Error:
        return None  # no such tables yet (or an older schema): nothing to report
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.close()


def read_sqlite_counts(path: Path) -> dict[str, int]:
    """plan id -> unresolved threads in the SQLite store at ``path``; {} when unreadable."""
    rows = _read_sqlite(path, _OPEN_COUNTS) or []
    return {str(plan): int(str(count)) for plan, count in rows}


def _read_server_counts(database_url: str) -> dict[str, int]:
    """The same counts from a database server (PostgreSQL), through the store's engine."""
    try:
        import sqlalchemy as sa
        from sqlalchemy.orm import Session

        from secplan.store.engine import create_engine_for
        from secplan.store.reviews import open_thread_counts
    except ImportError:
        return {}
    engine = create_engine_for(database_url)
    try:
        with Session(engine) as session:
            return open_thread_counts(session)
    except sa.exc.SQLAlchemyError:
        return {}
    finally:
        engine.dispose()


def load_open_threads(root: Path, database_url: str | None) -> Mapping[str, int]:
    """Unresolved review threads per plan, read from an existing store; {} when there is none.

    Without ``database_url`` only ``<root>/.secplan/secplan.db`` is read, and only if it exists.
    """
    if not database_url:
        return read_sqlite_counts(root / DEFAULT_DATABASE)
    if is_sqlite_url(database_url):
        path = sqlite_path(database_url)
        return {} if path is None else read_sqlite_counts(path)
    return _read_server_counts(database_url)


def with_mr_threads(root: Path, backend: str, counts: Mapping[str, int]) -> Mapping[str, int]:
    """``counts`` plus the unresolved merge request threads ``secplan review comments`` cached
    (``.secplan/mr-threads.json``), when the GitLab backend is configured. A JSON file read:
    no HTTP and no database on the check path; the findings cache sees the summed counts, so a
    change in either re-checks the plan."""
    if backend != "gitlab":
        return counts
    from secplan.review.cache import open_mr_thread_counts

    extra = open_mr_thread_counts(root)
    if not extra:
        return counts
    merged = dict(counts)
    for plan, n in extra.items():
        merged[plan] = merged.get(plan, 0) + n
    return merged


def load_known_epics(root: Path, database_url: str | None) -> frozenset[str] | None:
    """Every epic of the embedded tracker (``group/sub&iid``); None when no store can be read
    (SP404 is then skipped). SQLite is read with ``sqlite3``; a server through SQLAlchemy."""
    if not database_url or is_sqlite_url(database_url):
        path = sqlite_path(database_url) if database_url else root / DEFAULT_DATABASE
        rows = _read_sqlite(path, _EPICS) if path is not None else None
        return None if rows is None else frozenset(f"{p}&{iid}" for p, iid in rows)
    try:
        import sqlalchemy as sa

        from secplan.store.engine import create_engine_for
    except ImportError:
        return None
    try:
        engine = create_engine_for(database_url)
    except sa.exc.SQLAlchemyError:
        return None
    try:
        with engine.connect() as connection:
            return frozenset(f"{p}&{iid}" for p, iid in connection.execute(sa.text(_EPICS)))
    except sa.exc.SQLAlchemyError:
        return None  # unreachable, or not a secplan store (yet)
    finally:
        engine.dispose()
