"""Opening the store: an engine for SQLite (default) or PostgreSQL, migrated to the latest schema.

``open_store(root)`` uses ``<root>/.secplan/secplan.db``; a ``postgresql://`` URL selects
PostgreSQL. The schema is brought to the newest Alembic revision on open, so there is nothing to
set up by hand. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``: writers queue
on the database lock (``busy_timeout``) instead of failing when two processes write at once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from secplan.errors import NoDatabaseError, TrackerError, UsageError
from secplan.redact import redact, url_secrets

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: How long a SQLite writer waits for another writer before giving up (milliseconds).
BUSY_TIMEOUT_MS = 30_000
_READONLY = "secplan_readonly"


def default_database_path(root: Path) -> Path:
    """Where the embedded database of a handbook lives."""
    return root / ".secplan" / "secplan.db"


def normalise_url(database_url: str) -> URL:
    """Parse a database URL, steering PostgreSQL to the psycopg 3 driver; reject anything else."""
    try:
        url = make_url(database_url)
    except exc.ArgumentError as err:
        raise UsageError(
            f"not a database URL: {safe_url_text(database_url)}",
            hint="Use sqlite:///path/to/secplan.db or postgresql+psycopg://user@host/dbname.",
        ) from err
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url
    raise UsageError(
        f"unsupported database {backend!r} in {safe_url_text(database_url)}",
        hint="secplan stores its data in SQLite (the default) or PostgreSQL.",
    )


def safe_url_text(database_url: str | URL) -> str:
    """A URL fit to print: the password and secret query values (``?password=``,
    ``sslpassword=``...) are masked by the shared redactor."""
    try:
        url = make_url(database_url) if isinstance(database_url, str) else database_url
        return redact(url.render_as_string(hide_password=True))
    except exc.ArgumentError:
        return "<unparseable URL>"


def url_secret_values(database_url: str | URL) -> list[str]:
    """The secrets a database URL holds, for masking them in a driver's own messages."""
    text = (
        database_url
        if isinstance(database_url, str)
        else database_url.render_as_string(hide_password=False)
    )
    return url_secrets(text)


def database_error_text(err: BaseException, url: str | URL | None = None) -> str:
    """The first line of a database error, with the URL's secrets and any credential masked."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    return redact(first, url_secret_values(url) if url is not None else ())


def lock_holder() -> str:
    """This process as a lock holder: ``host:pid`` (what tells a dead holder on this host)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Store:
    """An open database: engine and sessions (the apply lock is in :mod:`secplan.sync.lock`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read = sessionmaker(
            engine.execution_options(**{_READONLY: True}), expire_on_commit=False
        )

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return safe_url_text(self.engine.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-write transaction: committed when the block ends, rolled back on an error."""
        with self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only transaction; on SQLite it does not take the write lock."""
        with self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _ignore_local_state(folder: Path) -> None:
    """Keep ``.secplan/`` (tracker database with confidential issues, caches) out of Git.

    Only the handbook's own ``.secplan`` folder gets it, and a ``.gitignore`` already there is
    left as it is.
    """
    ignore = folder / ".gitignore"
    if folder.name == ".secplan" and not ignore.exists():
        # A read-only or odd location must not stop the database itself from working.
        with contextlib.suppress(OSError):
            ignore.write_text("*\n", encoding="utf-8")


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    immutable = url.query.get("immutable") == "1"
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        folder.mkdir(parents=True, exist_ok=True)
        _ignore_local_state(folder)
    if database in ("", ":memory:"):
        # One connection for every thread: each new connection would be a new, empty database.
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = sa.create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not immutable:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that read first and then tried
        # to write could otherwise fail with "database is locked" without waiting.
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def create_engine_for(database_url: str) -> Engine:
    """An engine for ``database_url`` with secplan's connection settings (no migrations)."""
    return _engine_for(normalise_url(database_url))


def _engine_for(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(url, pool_pre_ping=True)


def open_store(root: Path, database_url: str | None = None, *, create: bool = True) -> Store:
    """Open (creating and migrating as needed) the store of the handbook at ``root``.

    ``database_url`` wins; otherwise the SQLite file ``<root>/.secplan/secplan.db`` is used.
    With ``create=False`` (read-only commands) nothing is created: a SQLite file or a
    PostgreSQL schema that is not there yet raises :class:`~secplan.errors.NoDatabaseError`.
    """
    url = normalise_url(database_url) if database_url else None
    if url is None:
        url = make_url(f"sqlite:///{default_database_path(Path(root))}")
    if not create:
        _require_existing(url)
        url = _read_only_if_needed(url)
    try:
        engine = _engine_for(url)
    except OSError as err:
        raise TrackerError(
            f"cannot create the database directory: {err}",
            hint="Run secplan in a handbook directory you can write to, or pass --database-url.",
        ) from err
    try:
        if not create and _stored_revisions(engine) is None:
            raise NoDatabaseError(
                f"no secplan tables in {safe_url_text(engine.url)} yet",
                hint="`secplan apply` creates them.",
            )
        upgrade(engine)
    except exc.DBAPIError as err:
        engine.dispose()
        raise TrackerError(
            f"cannot open the database {safe_url_text(engine.url)}: "
            f"{database_error_text(err, engine.url)}",
            hint="Check --database-url / SECPLAN_DATABASE_URL, and that the server is running."
            if engine.dialect.name != "sqlite"
            else "Check that the file is a secplan database and that you may write to it.",
        ) from err
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


def open_memory_store() -> Store:
    """An empty store in memory, at the newest schema, for reading where no database exists.

    Its tables come from the models (``create_all``) rather than the migrations: the result is
    the same (a test compares models and migrated schema on every backend), without importing
    Alembic and running every migration for a database nobody writes to.
    """
    from secplan.store.models import Base

    engine = _sqlite_engine(make_url("sqlite://"))
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
            )
            conn.exec_driver_sql(
                "INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD_REVISION,)
            )
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


def _require_existing(url: URL) -> None:
    """A read-only command on a SQLite file that does not exist: say so, create nothing."""
    if url.get_backend_name() != "sqlite":
        return
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    if not Path(database).is_file():
        missing = NoDatabaseError(
            f"no tracker database at {database} yet",
            hint="`secplan apply` creates it (or pass --database-url to use another one).",
        )
        missing.database = Path(database)
        raise missing


def _read_only_if_needed(url: URL) -> URL:
    """A SQLite file in a folder we cannot write (a read-only mount) is opened immutable: WAL
    mode needs to write beside the file even to read it."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return url
    if database.startswith("file:") or os.access(Path(database).parent, os.W_OK):
        return url
    return make_url(f"sqlite:///file:{database}?immutable=1&uri=true")


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """An Alembic configuration pointing at the migrations inside the package (no ini file)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


#: The newest migration revision shipped with this version of secplan. Kept as a constant so
#: opening an up-to-date database never loads Alembic; a test checks it against the scripts.
HEAD_REVISION = "0002"


@functools.cache
def head_revision() -> str:
    """The newest migration revision according to the migration scripts (loads Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stored_revisions(engine: Engine) -> set[str] | None:
    """The revisions in ``alembic_version`` with one query; None when there is no such table
    (a new database) or it cannot be read, for Alembic to look at. A server that cannot be
    reached is an error at once."""
    with engine.connect() as conn:
        try:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except exc.DBAPIError:
            return None
    return {row[0] for row in rows}


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a database already there costs one query and
    never imports Alembic."""
    if _stored_revisions(engine) == {HEAD_REVISION}:
        return
    from alembic import command
    from alembic.util.exc import CommandError

    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    except CommandError as err:
        raise TrackerError(
            f"the database {safe_url_text(engine.url)} has schema revision {current}, "
            "which this version of secplan does not know",
            hint="It was written by a newer secplan; upgrade secplan to use it.",
        ) from err
