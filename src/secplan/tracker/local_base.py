"""The local tracker's plumbing: sessions and transactions, namespaces created by path, iids,
and finding rows by ref. :class:`~secplan.tracker.local.LocalTracker` builds on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from secplan.errors import NotFoundError, TrackerError, UsageError
from secplan.store.engine import Store
from secplan.store.models import (
    Epic,
    Issue,
    Label,
    Milestone,
    Namespace,
    Note,
    StateEventRow,
    utcnow,
)
from secplan.tracker.local_rows import check_path, default_author, parse_epic, parse_issue


class StoreAccess:
    """Sessions, namespaces, iids and row lookups shared by the tracker's operations."""

    def __init__(self, store: Store, author: str | None = None) -> None:
        self.store = store
        self.author = author or default_author()
        self._tx: Session | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Dispose of the store's connections."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Run the calls made inside the block as one transaction (nested blocks join it)."""
        if self._tx is not None:
            yield self
            return
        with self.store.session() as session:
            self._tx = session
            try:
                yield self
            finally:
                self._tx = None

    def lock(self, name: str, holder: str | None = None) -> Any:
        """A named lock (``with tracker.lock("apply:plan-id"):``); see :meth:`Store.lock`."""
        return self.store.lock(name, holder)

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        if self._tx is not None:
            yield self._tx
            # Everything is in the database (uncommitted); a growing identity map would make
            # each later flush slower, so a long transaction stays as fast as short ones.
            self._tx.flush()
            self._tx.expunge_all()
        else:
            with self.store.session() as session:
                yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        if self._tx is not None:
            yield self._tx
            self._tx.expunge_all()
        else:
            with self.store.read_session() as session:
                yield session

    # -- namespaces --------------------------------------------------------------------------

    def _find_namespace(self, s: Session, path: str) -> Namespace | None:
        return s.scalar(sa.select(Namespace).where(Namespace.full_path == path))

    def _insert_namespace(self, s: Session, path: str, kind: str, parent_id: int | None) -> None:
        values = {"full_path": path, "kind": kind, "parent_id": parent_id, "created_at": utcnow()}
        if self.store.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            s.execute(sqlite_insert(Namespace).values(values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            # Another process may create the same path at this moment; the loser just reads it.
            s.execute(pg_insert(Namespace).values(values).on_conflict_do_nothing())

    def _namespace(self, s: Session, path: str, kind: Literal["group", "project"]) -> Namespace:
        """The group or project at ``path``, created (with its parent groups) if it is new."""
        path = check_path(path, kind)
        ns = self._find_namespace(s, path)
        if ns is None:
            parent_id: int | None = None
            if "/" in path:
                parent_id = self._namespace(s, path.rsplit("/", 1)[0], "group").id
            self._insert_namespace(s, path, kind, parent_id)
            ns = self._find_namespace(s, path)
            assert ns is not None
        if ns.kind != kind:
            raise TrackerError(
                f"{path} is a {ns.kind}, not a {kind}",
                hint="Issues live in projects, epics and milestones in groups.",
            )
        return ns

    def _ancestors(self, s: Session, ns: Namespace) -> list[Namespace]:
        """``ns``'s parent groups, nearest first."""
        chain: list[Namespace] = []
        current = ns.parent
        while current is not None:
            chain.append(current)
            current = current.parent
        return chain

    def _allocate_iid(self, s: Session, ns: Namespace, column: str) -> int:
        # The UPDATE takes the row lock (PostgreSQL) / write lock (SQLite), so concurrent
        # creators get consecutive numbers; the unique constraint backs it up.
        counter = getattr(Namespace, column)
        stmt = (
            sa.update(Namespace)
            .where(Namespace.id == ns.id)
            .values({column: counter + 1})
            .returning(counter)
            .execution_options(synchronize_session=False)
        )
        return int(s.execute(stmt).scalar_one())

    def _register_labels(self, s: Session, ns: Namespace, labels: list[str]) -> None:
        if not labels:
            return
        group = ns if ns.kind == "group" else ns.parent
        if group is None:
            return
        known = set(
            s.scalars(
                sa.select(Label.name).where(Label.namespace_id == group.id, Label.name.in_(labels))
            )
        )
        for name in labels:
            if name not in known:
                s.add(Label(namespace_id=group.id, name=name, color="#6699cc", description=""))
        s.flush()

    # -- lookups -----------------------------------------------------------------------------

    def _issue_row(self, s: Session, ref: str, required: bool = True) -> Issue | None:
        parsed = parse_issue(ref)
        row = s.scalar(
            sa.select(Issue)
            .join(Namespace, Issue.project_id == Namespace.id)
            .where(Namespace.full_path == parsed.path, Issue.iid == parsed.iid)
        )
        if row is None and required:
            raise NotFoundError(
                f"issue {parsed} not found",
                hint="List issues with: secplan issue list " + parsed.path,
            )
        return row

    def _epic_row(self, s: Session, ref: str, required: bool = True) -> Epic | None:
        parsed = parse_epic(ref)
        row = s.scalar(
            sa.select(Epic)
            .join(Namespace, Epic.group_id == Namespace.id)
            .where(Namespace.full_path == parsed.path, Epic.iid == parsed.iid)
        )
        if row is None and required:
            raise NotFoundError(
                f"epic {parsed} not found", hint="List epics with: secplan epic list " + parsed.path
            )
        return row

    def _milestone_for(self, s: Session, project: Namespace, title: str) -> Milestone:
        """The milestone ``title`` in the project's nearest ancestor group that has one."""
        groups = self._ancestors(s, project)
        rows = s.scalars(
            sa.select(Milestone).where(
                Milestone.title == title, Milestone.group_id.in_([g.id for g in groups])
            )
        ).all()
        by_group = {row.group_id: row for row in rows}
        for group in groups:
            if group.id in by_group:
                return by_group[group.id]
        top = groups[0].full_path if groups else project.full_path
        raise NotFoundError(
            f"milestone {title!r} not found in {top} or its parent groups",
            hint=f'Create it with: secplan milestone create {top} "{title}"',
        )

    def _new_epic(
        self,
        s: Session,
        ns: Namespace,
        title: str,
        description: str,
        labels: list[str],
        confidential: bool,
    ) -> Epic:
        now = utcnow()
        row = Epic(
            group_id=ns.id,
            iid=self._allocate_iid(s, ns, "epic_iid_seq"),
            title=title,
            description=description,
            labels=labels,
            state="opened",
            confidential=confidential,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        self._register_labels(s, ns, labels)
        s.flush()
        s.refresh(row)
        return row

    def _set_state(self, s: Session, row: Issue, state: str) -> None:
        if row.state == state:
            return
        now = utcnow()
        row.state = state
        row.closed_at = now if state == "closed" else None
        row.updated_at = now
        s.add(StateEventRow(issue_id=row.id, state=state, at=now))

    def _note(
        self, s: Session, body: str, author: str, system: bool = False, **parent: int
    ) -> Note:
        if not body.strip():
            raise UsageError("the note is empty")
        note = Note(author=author, body=body, system=system, created_at=utcnow(), **parent)
        s.add(note)
        return note
