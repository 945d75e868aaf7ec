"""Sync bookkeeping: what sync last pushed for each object (``sync_state``).

The record is a convenience, never the source of identity (markers in the tracker are): losing it
costs drift detection for objects pushed before, never duplicates. Records live in secplan's own
store (``sync_state``), whatever the tracker is, keyed by the tracker's identity so the records of
two backends (the embedded tracker and a GitLab instance) never mix.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from secplan.store.engine import Store

Key = tuple[str, str, str]  # (plan_id, kind, item_id)


@dataclass
class SyncRecord:
    """What sync pushed for one object."""

    plan: str
    kind: str  # epic | milestone | issue
    item: str
    ref: str
    content_hash: str
    pushed: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    @property
    def key(self) -> Key:
        return (self.plan, self.kind, self.item)


class SyncState(Protocol):
    """Where sync keeps its records."""

    def load(self, plan_ids: Iterable[str] | None = None) -> dict[Key, SyncRecord]:
        """Records of these plans (all plans when None), in one read."""
        ...

    def record(self, rec: SyncRecord) -> None:
        """Insert or replace one record (committed at once: apply may be killed any time)."""
        ...

    def record_many(self, recs: list[SyncRecord]) -> None:
        """Insert or replace several records at once (bookkeeping without tracker writes)."""
        ...

    def forget(self, key: Key) -> None:
        """Drop the record under ``key`` (its object now belongs to another item)."""
        ...


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    # Dates and other values become strings, as they would after a round trip through JSON.
    import json

    loaded: dict[str, Any] = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return loaded


class StoreState:
    """Records in the store's ``sync_state`` table for one tracker; each write is its own
    transaction."""

    def __init__(self, store: Store, tracker: str) -> None:
        self.store = store
        self.tracker = tracker

    def load(self, plan_ids: Iterable[str] | None = None) -> dict[Key, SyncRecord]:
        """Records of these plans (all when None), in one query."""
        import sqlalchemy as sa

        from secplan.store.models import SyncState as Row

        query = sa.select(
            Row.plan_id, Row.kind, Row.item_id, Row.ref, Row.content_hash, Row.pushed
        ).where(Row.tracker == self.tracker)
        wanted: set[str] | None = None  # filtered in Python: a long IN list costs more
        if plan_ids is not None:
            ids = sorted(set(plan_ids))
            if len(ids) <= 500:
                query = query.where(Row.plan_id.in_(ids))
            else:
                wanted = set(ids)
        out: dict[Key, SyncRecord] = {}
        with self.store.read_session() as s:
            for row in s.execute(query):
                if wanted is not None and row.plan_id not in wanted:
                    continue
                rec = SyncRecord(
                    plan=row.plan_id,
                    kind=row.kind,
                    item=row.item_id,
                    ref=row.ref or "",
                    content_hash=row.content_hash or "",
                    pushed=dict(row.pushed or {}),
                )
                out[rec.key] = rec
        return out

    def record(self, rec: SyncRecord) -> None:
        """Insert or replace ``rec`` and commit."""
        self.record_many([rec])

    def forget(self, key: Key) -> None:
        """Delete the record under ``key`` and commit."""
        import sqlalchemy as sa

        from secplan.store.models import SyncState as Row

        plan_id, kind, item_id = key
        with self.store.session() as s:
            s.execute(
                sa.delete(Row).where(
                    Row.tracker == self.tracker,
                    Row.plan_id == plan_id,
                    Row.kind == kind,
                    Row.item_id == item_id,
                )
            )

    def record_many(self, recs: list[SyncRecord]) -> None:
        """Insert or replace several records in one transaction (one upsert statement)."""
        if not recs:
            return
        from secplan.store.models import utcnow

        now = utcnow()
        unique = {rec.key: rec for rec in recs}  # an upsert may not touch one row twice
        rows = [
            {
                "tracker": self.tracker,
                "plan_id": rec.plan,
                "kind": rec.kind,
                "item_id": rec.item,
                "ref": rec.ref,
                "content_hash": rec.content_hash,
                "pushed": _jsonable(rec.pushed),
                "updated_at": now,
            }
            for rec in unique.values()
        ]
        stmt = _upsert(self.store.is_sqlite)
        with self.store.session() as s:
            conn = s.connection()
            for start in range(0, len(rows), 500):
                conn.execute(stmt, rows[start : start + 500])


@functools.cache
def _upsert(sqlite: bool) -> Any:
    """The upsert of ``sync_state`` rows, built once per dialect (building costs more than
    running it for one row)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from secplan.store.models import Base

    table = Base.metadata.tables["sync_state"]
    insert: Any = sqlite_dialect.insert if sqlite else postgresql.insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.tracker, table.c.plan_id, table.c.kind, table.c.item_id],
        set_={
            "ref": stmt.excluded.ref,
            "content_hash": stmt.excluded.content_hash,
            "pushed": stmt.excluded.pushed,
            "updated_at": stmt.excluded.updated_at,
        },
    )
