"""Caches of GitLab's ids (path -> id, milestone title -> id, username -> id, epic ref -> global
id), so a run resolves each name once. The store can back :class:`IdCache` with a table."""

from __future__ import annotations

from typing import Protocol


class IdCache(Protocol):
    """Where remote ids are kept between calls (and, backed by secplan's store, between runs)."""

    def get(self, kind: str, key: str) -> str | None: ...
    def put(self, kind: str, key: str, value: str) -> None: ...


class MemoryIdCache:
    """An :class:`IdCache` for one process."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}

    def get(self, kind: str, key: str) -> str | None:
        """The cached value, or None."""
        return self._data.get((kind, key))

    def put(self, kind: str, key: str, value: str) -> None:
        """Remember ``value`` for ``(kind, key)``."""
        self._data[(kind, key)] = value
