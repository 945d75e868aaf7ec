"""A remote tracker's ids cached in the store (project path -> id, username -> id, epic ref ->
global id), so a no-op sync does not look them up again. Keyed by the tracker's identity."""

from __future__ import annotations

import sqlalchemy as sa

from secplan.store.engine import Store
from secplan.store.models import RemoteId, utcnow


class StoreIdCache:
    """``get``/``put`` of remote ids for one tracker; reads once per kind, writes at once."""

    def __init__(self, store: Store, tracker: str) -> None:
        self.store = store
        self.tracker = tracker
        self._loaded: dict[str, dict[str, str]] = {}

    def _kind(self, kind: str) -> dict[str, str]:
        if kind not in self._loaded:
            with self.store.read_session() as s:
                rows = s.execute(
                    sa.select(RemoteId.key, RemoteId.value).where(
                        RemoteId.tracker == self.tracker, RemoteId.kind == kind
                    )
                )
                self._loaded[kind] = {key: value for key, value in rows}
        return self._loaded[kind]

    def get(self, kind: str, key: str) -> str | None:
        """The cached id of ``key``, or None."""
        return self._kind(kind).get(key)

    def put(self, kind: str, key: str, value: str) -> None:
        """Remember ``key`` -> ``value`` (a write only when it changed)."""
        known = self._kind(kind)
        if known.get(key) == value:
            return
        with self.store.session() as s:
            row = s.get(RemoteId, (self.tracker, kind, key))
            if row is None:
                s.add(RemoteId(tracker=self.tracker, kind=kind, key=key, value=value))
            else:
                row.value = value
                row.updated_at = utcnow()
        known[key] = value

    def forget(self, kind: str, key: str) -> None:
        """Drop a cached id that turned out to be stale (the object was deleted or moved)."""
        known = self._kind(kind)
        if known.pop(key, None) is None:
            return
        with self.store.session() as s:
            s.execute(
                sa.delete(RemoteId).where(
                    RemoteId.tracker == self.tracker, RemoteId.kind == kind, RemoteId.key == key
                )
            )
