"""The store: secplan's database (SQLite by default, PostgreSQL when outgrown).

``open_store(root, database_url)`` returns a migrated :class:`Store`; the schema is in
:mod:`secplan.store.models`, review threads in :mod:`secplan.store.reviews`.
"""

from __future__ import annotations

from secplan.store.engine import Store, default_database_path, open_store

__all__ = ["Store", "default_database_path", "open_store"]
