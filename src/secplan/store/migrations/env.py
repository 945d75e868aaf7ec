"""Alembic environment: migrates the connection secplan hands over (see ``store.engine.upgrade``).

Run from the command line it needs ``-x url=...``; at runtime the store passes an open
connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from secplan.store.models import Base

config = context.config
target_metadata = Base.metadata

# A fixed key for PostgreSQL's advisory lock: two processes opening a fresh database at once
# must not both create the tables.
_MIGRATION_LOCK_KEY = 0x5EC91A7


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        if context.get_bind().dialect.name == "postgresql":
            context.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or one made from ``-x url=...``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from secplan.store.engine import create_engine_for

    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=DATABASE_URL ...")
    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations_online()
