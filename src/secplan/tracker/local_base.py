"""The local tracker's plumbing: sessions and transactions, namespaces created by path, iids,
and finding rows by ref. :class:`~secplan.tracker.local.LocalTracker` builds on it.

Namespaces (with their ancestor ids) and registered labels are cached per tracker once the
transaction that saw them has committed: they are never deleted or moved, and looking them up
again on every create was most of its cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from secplan.errors import NotFoundError, TrackerError, UsageError

if TYPE_CHECKING:
    from secplan.tracker.base import _Update
from secplan.refs import Ref
from secplan.store.engine import Store
from secplan.store.models import (
    Base,
    Epic,
    Issue,
    Label,
    Milestone,
    Namespace,
    Note,
    StateEventRow,
    utcnow,
)
from secplan.tracker.base import UNSET, CallStats
from secplan.tracker.local_rows import (
    check_path,
    check_title,
    clean_list,
    default_author,
    parse_epic,
    parse_issue,
)

# Statements built once: constructing a statement costs more than running it on SQLite.
_NS_BY_PATH = sa.select(Namespace.id, Namespace.kind).where(
    Namespace.full_path == sa.bindparam("path")
)
_NAMESPACES = Base.metadata.tables["namespaces"]
_NEXT_IID = {
    column: sa.update(_NAMESPACES)
    .where(_NAMESPACES.c.id == sa.bindparam("ns_id"))
    .values({column: _NAMESPACES.c[column] + 1})
    .returning(_NAMESPACES.c[column])
    for column in ("issue_iid_seq", "epic_iid_seq")
}
_MILESTONE_IN_GROUPS = sa.select(Milestone.group_id, Milestone.id).where(
    Milestone.title == sa.bindparam("title"),
    Milestone.group_id.in_(sa.bindparam("groups", expanding=True)),
)
_EPIC_ID = (
    sa.select(Epic.id)
    .join(Namespace, Epic.group_id == Namespace.id)
    .where(Namespace.full_path == sa.bindparam("path"), Epic.iid == sa.bindparam("iid"))
)


@dataclass(frozen=True)
class NsInfo:
    """A group or project as the tracker needs it: id, path, kind and its parent groups' ids.

    Namespaces are never deleted or moved, so once committed this never changes and is cached.
    """

    id: int
    path: str
    kind: str
    ancestors: tuple[int, ...]  # parent groups, nearest first

    @property
    def label_group(self) -> int | None:
        """Where labels used here are registered: the group itself, or a project's group."""
        if self.kind == "group":
            return self.id
        return self.ancestors[0] if self.ancestors else None


class StoreAccess:
    """Sessions, namespaces, iids and row lookups shared by the tracker's operations."""

    def __init__(self, store: Store, author: str | None = None) -> None:
        self.store = store
        self.author = author or default_author()
        self._tx: Session | None = None
        self.stats = CallStats()
        # Namespaces and labels known to be committed, and those seen in the open transaction
        # (kept only if it commits: a rolled-back insert must not leave a cached id behind).
        self._known: dict[tuple[Any, ...], Any] = {}
        self._staged: dict[tuple[Any, ...], Any] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Dispose of the store's connections."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _scope(self, session_factory: Any) -> Iterator[Session]:
        """A top-level session; what it taught the cache is kept only if it ended well."""
        try:
            with session_factory() as session:
                yield session
        except BaseException:
            self._staged.clear()
            raise
        self._known.update(self._staged)
        self._staged.clear()

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Run the calls made inside the block as one transaction (nested blocks join it)."""
        if self._tx is not None:
            yield self
            return
        with self._scope(self.store.session) as session:
            self._tx = session
            try:
                yield self
            finally:
                self._tx = None

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        self.stats.writes += 1
        if self._tx is not None:
            yield self._tx
            # Everything is in the database (uncommitted); a growing identity map would make
            # each later flush slower, so a long transaction stays as fast as short ones.
            self._tx.flush()
            self._tx.expunge_all()
        else:
            with self._scope(self.store.session) as session:
                yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        self.stats.reads += 1
        if self._tx is not None:
            yield self._tx
            self._tx.expunge_all()
        else:
            with self._scope(self.store.read_session) as session:
                yield session

    def _cached(self, key: tuple[Any, ...]) -> Any:
        return self._known.get(key, self._staged.get(key))

    # -- namespaces --------------------------------------------------------------------------

    def _insert_ignore(self, s: Session, model: Any, values: dict[str, Any]) -> None:
        """INSERT that does nothing when a unique key exists: another process may be creating
        the same row at this moment, and the loser just reads it."""
        if self.store.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        s.execute(insert(model).values(values).on_conflict_do_nothing())

    def _ns(self, s: Session, path: str, kind: Literal["group", "project"]) -> NsInfo:
        """The group or project at ``path``, created (with its parent groups) if it is new."""
        path = check_path(path, kind)
        info: NsInfo | None = self._cached(("ns", path))
        if info is None:
            parent = self._ns(s, path.rsplit("/", 1)[0], "group") if "/" in path else None
            row = self._ns_row(s, path)
            if row is None:
                values = {
                    "full_path": path,
                    "kind": kind,
                    "parent_id": parent.id if parent else None,
                    "created_at": utcnow(),
                }
                self._insert_ignore(s, Namespace, values)
                row = self._ns_row(s, path)
                assert row is not None
            ancestors = (parent.id, *parent.ancestors) if parent else ()
            info = NsInfo(row[0], path, row[1], ancestors)
            self._staged[("ns", path)] = info
        if info.kind != kind:
            raise TrackerError(
                f"{path} is a {info.kind}, not a {kind}",
                hint="Issues live in projects, epics and milestones in groups.",
            )
        return info

    @staticmethod
    def _ns_row(s: Session, path: str) -> Any:
        return s.connection().execute(_NS_BY_PATH, {"path": path}).first()

    def _allocate_iid(self, s: Session, ns_id: int, column: str) -> int:
        # The UPDATE takes the row lock (PostgreSQL) / write lock (SQLite), so concurrent
        # creators get consecutive numbers; the unique constraint backs it up.
        return int(s.connection().execute(_NEXT_IID[column], {"ns_id": ns_id}).scalar_one())

    def _register_labels(self, s: Session, ns_path: str, kind: str, labels: list[str]) -> None:
        """Make the labels known in the namespace's group (GitLab group labels)."""
        if not labels:
            return
        group = self._ns(s, ns_path, "group" if kind == "group" else "project").label_group
        if group is None:
            return
        new = [name for name in labels if not self._cached(("label", group, name))]
        if not new:
            return
        known = set(
            s.scalars(sa.select(Label.name).where(Label.namespace_id == group, Label.name.in_(new)))
        )
        for name in new:
            if name not in known:
                values = {"namespace_id": group, "name": name, "color": "#6699cc"}
                self._insert_ignore(s, Label, {**values, "description": ""})
            self._staged[("label", group, name)] = True

    # -- lookups -----------------------------------------------------------------------------

    def _issue_row(self, s: Session, ref: str, required: bool = True) -> Issue | None:
        return self._by_ref(s, Issue, Issue.project_id, parse_issue(ref), required)

    def _epic_row(self, s: Session, ref: str, required: bool = True) -> Epic | None:
        return self._by_ref(s, Epic, Epic.group_id, parse_epic(ref), required)

    @staticmethod
    def _by_ref(s: Session, model: Any, owner: Any, parsed: Ref, required: bool) -> Any:
        row = s.scalar(
            sa.select(model)
            .join(Namespace, owner == Namespace.id)
            .where(Namespace.full_path == parsed.path, model.iid == parsed.iid)
        )
        if row is None and required:
            raise _not_found(parsed)
        return row

    def _epic_id(self, s: Session, ref: str) -> tuple[int, str]:
        """Id and normalised ref of the epic ``ref``, in one flat query."""
        parsed = parse_epic(ref)
        row = s.connection().execute(_EPIC_ID, {"path": parsed.path, "iid": parsed.iid}).first()
        if row is None:
            raise _not_found(parsed)
        return int(row[0]), str(parsed)

    def _milestone_id(self, s: Session, project: NsInfo, title: str) -> int:
        """The milestone ``title`` in the project's nearest ancestor group that has one."""
        params = {"title": title, "groups": list(project.ancestors)}
        rows = dict(s.connection().execute(_MILESTONE_IN_GROUPS, params).all())
        for group in project.ancestors:
            if group in rows:
                return int(rows[group])
        top = project.path.rsplit("/", 1)[0] if project.ancestors else project.path
        raise NotFoundError(
            f"milestone {title!r} not found in {top} or its parent groups",
            hint=f'Create it with: secplan milestone create {top} "{title}"',
        )

    def _new_epic(
        self,
        s: Session,
        ns: NsInfo,
        title: str,
        description: str,
        labels: list[str],
        confidential: bool,
    ) -> Epic:
        now = utcnow()
        row = Epic(
            group_id=ns.id,
            iid=self._allocate_iid(s, ns.id, "epic_iid_seq"),
            title=title,
            description=description,
            labels=labels,
            state="opened",
            confidential=confidential,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        self._register_labels(s, ns.path, ns.kind, labels)
        s.flush()
        s.refresh(row)
        return row

    def _apply_common(self, s: Session, row: Issue | Epic, update: _Update) -> None:
        """The fields issues and epics share: title, description, labels, confidentiality."""
        if update.title is not UNSET:
            row.title = check_title(str(update.title))
        if update.description is not UNSET:
            row.description = str(update.description or "")
        if update.add_labels or update.remove_labels:
            drop = set(clean_list(update.remove_labels))
            labels = [x for x in row.labels if x not in drop]
            labels += [x for x in clean_list(update.add_labels) if x not in labels]
            row.labels = labels
            if isinstance(row, Issue):
                self._register_labels(s, row.project.full_path, "project", row.labels)
            else:
                self._register_labels(s, row.group.full_path, "group", row.labels)
        if update.confidential is not UNSET:
            row.confidential = bool(update.confidential)

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


def _not_found(parsed: Ref) -> NotFoundError:
    what = "issue" if parsed.kind == "issue" else "epic"
    return NotFoundError(
        f"{what} {parsed} not found", hint=f"List {what}s with: secplan {what} list {parsed.path}"
    )
