"""The embedded tracker: GitLab's shapes and reference syntax on top of the secplan store.

Groups and projects are created by path the first time they are used; issues are
``group/project#iid``, epics ``group&iid``, milestones are group milestones resolved through the
project's ancestor groups as GitLab resolves them. Every method is one transaction unless it runs
inside :meth:`LocalTracker.transaction`. A tracker is meant for one thread.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from secplan.errors import NotFoundError, TrackerError, UsageError
from secplan.refs import Ref, parse_epic_ref, parse_issue_ref
from secplan.store.engine import Store
from secplan.store.models import (
    Epic,
    Issue,
    IssueLink,
    Label,
    Milestone,
    Namespace,
    Note,
    StateEventRow,
    utcnow,
)
from secplan.tracker.base import (
    StateEvent,
    TrackedEpic,
    TrackedIssue,
    TrackedMilestone,
    TrackedNote,
    Tracker,
)

ISSUE_FIELDS = frozenset(
    {"title", "description", "labels", "milestone", "assignees", "confidential", "epic"}
)
EPIC_FIELDS = frozenset({"title", "description", "labels", "confidential", "state", "parent"})
MILESTONE_FIELDS = frozenset({"title", "start", "due", "description", "state"})
LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
MAX_TITLE = 255


def default_author() -> str:
    """Who notes and review comments are attributed to: ``$SECPLAN_USER`` or the login name."""
    env = os.environ.get("SECPLAN_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "secplan"


def _issue_ref(text: str) -> Ref:
    ref = parse_issue_ref(text)
    if ref is None:
        raise UsageError(
            f"not an issue reference: {text!r}", hint="Write it as group/project#12 or its URL."
        )
    return ref


def _epic_ref(text: str) -> Ref:
    ref = parse_epic_ref(text)
    if ref is None:
        raise UsageError(
            f"not an epic reference: {text!r}", hint="Write it as group&12 or its URL."
        )
    return ref


def _check_path(path: str, what: Literal["group", "project"]) -> str:
    path = path.strip().strip("/")
    parsed = parse_issue_ref(f"{path}#1")
    dots = any(part in (".", "..") or part.endswith(".git") for part in path.split("/"))
    if not path or parsed is None or parsed.path != path or dots:
        raise UsageError(
            f"not a {what} path: {path!r}",
            hint="Use a GitLab-style full path such as security/appsec"
            + ("/plans." if what == "project" else "."),
        )
    if what == "project" and "/" not in path:
        raise UsageError(
            f"project {path!r} has no group",
            hint=f"Projects live in a group, e.g. security/{path}.",
        )
    return path


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UsageError("the title is empty")
    if len(title) > MAX_TITLE:
        raise UsageError(f"the title is longer than {MAX_TITLE} characters ({len(title)})")
    return title


def _clean_list(values: Iterable[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for value in values or ():
        value = value.strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _epic_text(row: Epic) -> str:
    return f"{row.group.full_path}&{row.iid}"


def _issue_text(row: Issue) -> str:
    return f"{row.project.full_path}#{row.iid}"


def _to_issue(row: Issue) -> TrackedIssue:
    return TrackedIssue(
        ref=_issue_text(row),
        project=row.project.full_path,
        iid=row.iid,
        title=row.title,
        description=row.description,
        labels=list(row.labels),
        milestone=row.milestone.title if row.milestone else None,
        assignees=list(row.assignees),
        state="closed" if row.state == "closed" else "opened",
        confidential=row.confidential,
        epic=_epic_text(row.epic) if row.epic else None,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def _to_epic(row: Epic) -> TrackedEpic:
    return TrackedEpic(
        ref=_epic_text(row),
        group=row.group.full_path,
        iid=row.iid,
        title=row.title,
        description=row.description,
        labels=list(row.labels),
        state="closed" if row.state == "closed" else "opened",
        confidential=row.confidential,
    )


def _to_milestone(row: Milestone) -> TrackedMilestone:
    return TrackedMilestone(
        group=row.group.full_path,
        title=row.title,
        start=row.start_date,
        due=row.due_date,
        description=row.description,
        state="closed" if row.state == "closed" else "opened",
        id=row.id,
    )


_EpicGroup = aliased(Namespace, name="epic_group")


def _issue_select() -> Any:
    """Issue columns with the paths and titles a TrackedIssue needs, in one flat query.

    Reading rows instead of ORM objects keeps listing tens of thousands of issues quick.
    """
    return (
        sa.select(
            Namespace.full_path,
            Issue.iid,
            Issue.title,
            Issue.description,
            Issue.labels,
            Milestone.title.label("milestone"),
            Issue.assignees,
            Issue.state,
            Issue.confidential,
            _EpicGroup.full_path.label("epic_group"),
            Epic.iid.label("epic_iid"),
            Issue.created_at,
            Issue.closed_at,
        )
        .select_from(Issue)
        .join(Namespace, Issue.project_id == Namespace.id)
        .outerjoin(Milestone, Issue.milestone_id == Milestone.id)
        .outerjoin(Epic, Issue.epic_id == Epic.id)
        .outerjoin(_EpicGroup, Epic.group_id == _EpicGroup.id)
    )


def _row_to_issue(row: Any) -> TrackedIssue:
    # Unpacking by position: attribute access on result rows costs several times more.
    (path, iid, title, description, labels, milestone, assignees, state, confidential) = row[:9]
    epic_group, epic_iid, created_at, closed_at = row[9:]
    return TrackedIssue(
        ref=f"{path}#{iid}",
        project=path,
        iid=iid,
        title=title,
        description=description,
        labels=list(labels),
        milestone=milestone,
        assignees=list(assignees),
        state="closed" if state == "closed" else "opened",
        confidential=confidential,
        epic=f"{epic_group}&{epic_iid}" if epic_group else None,
        created_at=created_at,
        closed_at=closed_at,
    )


def _in_namespace(path: str) -> sa.ColumnElement[bool]:
    """The namespace ``path`` itself or anything below it."""
    return sa.or_(
        Namespace.full_path == path, Namespace.full_path.startswith(path + "/", autoescape=True)
    )


class LocalTracker:
    """The :class:`~secplan.tracker.base.Tracker` protocol on the embedded store.

    Beyond the protocol: :meth:`transaction` (several calls, one commit), :meth:`lock` (a named
    lock for ``apply``), :meth:`get_issues` (many refs, one query), issue links and labels.
    """

    def __init__(self, store: Store, author: str | None = None) -> None:
        self.store = store
        self.author = author or default_author()
        self._tx: Session | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Dispose of the store's connections."""
        self.store.close()

    def __enter__(self) -> LocalTracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[LocalTracker]:
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
        path = _check_path(path, kind)
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
        parsed = _issue_ref(ref)
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
        parsed = _epic_ref(ref)
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

    # -- epics -------------------------------------------------------------------------------

    def get_epic(self, ref: str) -> TrackedEpic | None:
        """The epic ``group&iid``, or None if there is none."""
        with self._reading() as s:
            row = self._epic_row(s, ref, required=False)
            return _to_epic(row) if row else None

    def find_epics(self, group: str, marker: str) -> list[TrackedEpic]:
        """Epics in ``group`` (and its subgroups) whose description contains ``marker``."""
        with self._reading() as s:
            rows = s.scalars(
                sa.select(Epic)
                .join(Namespace, Epic.group_id == Namespace.id)
                .where(_in_namespace(group), Epic.description.contains(marker, autoescape=True))
                .order_by(Namespace.full_path, Epic.iid)
            ).all()
            # SQLite's LIKE ignores case; the marker must match exactly.
            return [_to_epic(r) for r in rows if marker in r.description]

    def create_epic(
        self,
        group: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        confidential: bool = True,
    ) -> TrackedEpic:
        """A new epic in ``group`` (created if new) with the next iid."""
        title = _check_title(title)
        clean = _clean_list(labels)
        with self._writing() as s:
            ns = self._namespace(s, group, "group")
            row = self._new_epic(s, ns, title, description, clean, confidential)
            return _to_epic(row)

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

    def update_epic(self, ref: str, **changes: object) -> TrackedEpic:
        """Change an epic's title, description, labels, confidential, state or parent epic."""
        unknown = set(changes) - EPIC_FIELDS
        if unknown:
            raise UsageError(f"cannot change {', '.join(sorted(unknown))} on an epic")
        with self._writing() as s:
            row = self._epic_row(s, ref)
            assert row is not None
            for key, value in changes.items():
                if key == "title":
                    row.title = _check_title(str(value))
                elif key == "description":
                    row.description = str(value or "")
                elif key == "labels":
                    row.labels = _clean_list(value)  # type: ignore[arg-type]
                    self._register_labels(s, row.group, row.labels)
                elif key == "confidential":
                    row.confidential = bool(value)
                elif key == "state":
                    if value not in ("opened", "closed"):
                        raise UsageError(f"an epic's state is opened or closed, not {value!r}")
                    if row.state != value:
                        row.state = str(value)
                        row.closed_at = utcnow() if value == "closed" else None
                elif key == "parent":
                    parent = self._epic_row(s, str(value)) if value else None
                    if parent is not None and parent.id == row.id:
                        raise UsageError("an epic cannot be its own parent")
                    row.parent_id = parent.id if parent else None
            row.updated_at = utcnow()
            s.flush()
            return _to_epic(row)

    def list_epics(self, group: str | None = None) -> list[TrackedEpic]:
        """All epics, or those of ``group`` and its subgroups, by group path and iid."""
        with self._reading() as s:
            stmt = sa.select(Epic).join(Namespace, Epic.group_id == Namespace.id)
            if group:
                stmt = stmt.where(_in_namespace(group.strip("/")))
            rows = s.scalars(stmt.order_by(Namespace.full_path, Epic.iid)).all()
            return [_to_epic(r) for r in rows]

    def epic_parent(self, ref: str) -> str | None:
        """The parent epic's ref, if the epic has one."""
        with self._reading() as s:
            row = self._epic_row(s, ref)
            assert row is not None
            return _epic_text(row.parent) if row.parent else None

    # -- milestones --------------------------------------------------------------------------

    def get_milestone(self, group: str, title: str) -> TrackedMilestone | None:
        """The milestone ``title`` of exactly this group, or None."""
        with self._reading() as s:
            row = s.scalar(
                sa.select(Milestone)
                .join(Namespace, Milestone.group_id == Namespace.id)
                .where(Namespace.full_path == group.strip("/"), Milestone.title == title)
            )
            return _to_milestone(row) if row else None

    def create_milestone(
        self,
        group: str,
        title: str,
        start: date | None = None,
        due: date | None = None,
        description: str = "",
    ) -> TrackedMilestone:
        """A new group milestone; its title must be new in the group."""
        title = _check_title(title)
        if start and due and due < start:
            raise UsageError(f"milestone {title!r} is due ({due}) before it starts ({start})")
        with self._writing() as s:
            ns = self._namespace(s, group, "group")
            exists = s.scalar(
                sa.select(Milestone.id).where(Milestone.group_id == ns.id, Milestone.title == title)
            )
            if exists:
                raise TrackerError(f"milestone {title!r} already exists in {ns.full_path}")
            now = utcnow()
            row = Milestone(
                group_id=ns.id,
                title=title,
                start_date=start,
                due_date=due,
                description=description,
                state="opened",
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            s.refresh(row)
            return _to_milestone(row)

    def update_milestone(self, group: str, title: str, **changes: object) -> TrackedMilestone:
        """Change a milestone's title, start, due, description or state."""
        unknown = set(changes) - MILESTONE_FIELDS
        if unknown:
            raise UsageError(f"cannot change {', '.join(sorted(unknown))} on a milestone")
        with self._writing() as s:
            row = s.scalar(
                sa.select(Milestone)
                .join(Namespace, Milestone.group_id == Namespace.id)
                .where(Namespace.full_path == group.strip("/"), Milestone.title == title)
            )
            if row is None:
                raise NotFoundError(
                    f"milestone {title!r} not found in {group}",
                    hint="List milestones with: secplan milestone list " + group,
                )
            for key, value in changes.items():
                if key == "title":
                    row.title = _check_title(str(value))
                elif key == "start":
                    row.start_date = value  # type: ignore[assignment]
                elif key == "due":
                    row.due_date = value  # type: ignore[assignment]
                elif key == "description":
                    row.description = str(value or "")
                elif key == "state":
                    if value not in ("opened", "closed"):
                        raise UsageError(f"a milestone's state is opened or closed, not {value!r}")
                    row.state = str(value)
            row.updated_at = utcnow()
            s.flush()
            return _to_milestone(row)

    def list_milestones(self, group: str | None = None) -> list[TrackedMilestone]:
        """All milestones, or those of ``group`` and its subgroups."""
        with self._reading() as s:
            stmt = sa.select(Milestone).join(Namespace, Milestone.group_id == Namespace.id)
            if group:
                stmt = stmt.where(_in_namespace(group.strip("/")))
            stmt = stmt.order_by(
                Namespace.full_path, Milestone.due_date.is_(None), Milestone.due_date, Milestone.id
            )
            return [_to_milestone(r) for r in s.scalars(stmt).all()]

    # -- issues ------------------------------------------------------------------------------

    def get_issue(self, ref: str) -> TrackedIssue | None:
        """The issue ``group/project#iid``, or None if there is none."""
        with self._reading() as s:
            row = self._issue_row(s, ref, required=False)
            return _to_issue(row) if row else None

    def get_issues(self, refs: Iterable[str]) -> dict[str, TrackedIssue]:
        """Many issues at once, keyed by the refs asked for; missing ones are left out."""
        wanted: dict[tuple[str, int], list[str]] = {}
        for text in refs:
            parsed = _issue_ref(text)
            wanted.setdefault((parsed.path, parsed.iid), []).append(text)
        found: dict[str, TrackedIssue] = {}
        if not wanted:
            return found
        paths = sorted({path for path, _ in wanted})
        with self._reading() as s:
            for start in range(0, len(paths), 500):
                rows = s.execute(
                    _issue_select().where(Namespace.full_path.in_(paths[start : start + 500]))
                )
                for row in rows:
                    for text in wanted.get((row[0], row[1]), ()):
                        found[text] = _row_to_issue(row)
        return found

    def find_issues(self, project: str, marker: str) -> list[TrackedIssue]:
        """Issues in ``project`` (or a group's projects) whose description has ``marker``."""
        with self._reading() as s:
            rows = s.execute(
                _issue_select()
                .where(
                    _in_namespace(project.strip("/")),
                    Issue.description.contains(marker, autoescape=True),
                )
                .order_by(Namespace.full_path, Issue.iid)
            )
            return [_row_to_issue(r) for r in rows if marker in r[3]]

    def create_issue(
        self,
        project: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        milestone: str | None = None,
        assignees: list[str] | None = None,
        confidential: bool = True,
        epic: str | None = None,
    ) -> TrackedIssue:
        """A new issue in ``project`` (created if new), confidential unless told otherwise."""
        title = _check_title(title)
        clean_labels = _clean_list(labels)
        with self._writing() as s:
            ns = self._namespace(s, project, "project")
            milestone_row = self._milestone_for(s, ns, milestone) if milestone else None
            epic_row = self._epic_row(s, epic) if epic else None
            now = utcnow()
            row = Issue(
                project_id=ns.id,
                iid=self._allocate_iid(s, ns, "issue_iid_seq"),
                title=title,
                description=description,
                labels=clean_labels,
                milestone_id=milestone_row.id if milestone_row else None,
                assignees=_clean_list(assignees),
                state="opened",
                confidential=confidential,
                epic_id=epic_row.id if epic_row else None,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            s.add(StateEventRow(issue_id=row.id, state="opened", at=now))
            self._register_labels(s, ns, clean_labels)
            s.refresh(row)
            return _to_issue(row)

    def update_issue(self, ref: str, **changes: object) -> TrackedIssue:
        """Change title, description, labels, milestone, assignees, confidential or epic."""
        unknown = set(changes) - ISSUE_FIELDS
        if unknown:
            raise UsageError(f"cannot change {', '.join(sorted(unknown))} on an issue")
        with self._writing() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            for key, value in changes.items():
                if key == "title":
                    row.title = _check_title(str(value))
                elif key == "description":
                    row.description = str(value or "")
                elif key == "labels":
                    row.labels = _clean_list(value)  # type: ignore[arg-type]
                    self._register_labels(s, row.project, row.labels)
                elif key == "assignees":
                    row.assignees = _clean_list(value)  # type: ignore[arg-type]
                elif key == "confidential":
                    row.confidential = bool(value)
                elif key == "milestone":
                    m = self._milestone_for(s, row.project, str(value)) if value else None
                    row.milestone_id = m.id if m else None
                elif key == "epic":
                    e = self._epic_row(s, str(value)) if value else None
                    row.epic_id = e.id if e else None
            row.updated_at = utcnow()
            s.flush()
            s.refresh(row)
            return _to_issue(row)

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

    def close_issue(self, ref: str, note: str | None = None) -> TrackedIssue:
        """Close the issue (a no-op if closed), optionally leaving a note."""
        with self._writing() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            if note:
                self._note(s, note, self.author, issue_id=row.id)
            self._set_state(s, row, "closed")
            s.flush()
            return _to_issue(row)

    def reopen_issue(self, ref: str) -> TrackedIssue:
        """Reopen the issue (a no-op if open)."""
        with self._writing() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            if row.promoted_to_epic_id is not None:
                raise TrackerError(
                    f"{ref} was promoted to an epic and cannot be reopened",
                    hint="Work on the epic it was promoted to instead.",
                )
            self._set_state(s, row, "opened")
            s.flush()
            return _to_issue(row)

    def list_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> list[TrackedIssue]:
        """Issues filtered like GitLab's list: by project (or group), state, epic, labels (all
        of them), milestone title."""
        if state not in ("opened", "closed", "all"):
            raise UsageError(f"state must be opened, closed or all, not {state!r}")
        wanted_labels = set(_clean_list(labels))
        with self._reading() as s:
            stmt = _issue_select()
            if project:
                stmt = stmt.where(_in_namespace(project.strip("/")))
            if state != "all":
                stmt = stmt.where(Issue.state == state)
            if epic:
                epic_row = self._epic_row(s, epic, required=False)
                if epic_row is None:
                    return []
                stmt = stmt.where(Issue.epic_id == epic_row.id)
            if milestone:
                stmt = stmt.where(Milestone.title == milestone)
            rows = s.execute(stmt.order_by(Namespace.full_path, Issue.iid))
            return [
                _row_to_issue(r) for r in rows if not wanted_labels or wanted_labels <= set(r[4])
            ]

    def add_note(self, ref: str, body: str, author: str | None = None) -> TrackedNote:
        """Comment on an issue (``group/project#iid``) or an epic (``group&iid``)."""
        with self._writing() as s:
            if parse_epic_ref(ref) is not None:
                epic_row = self._epic_row(s, ref)
                assert epic_row is not None
                note = self._note(s, body, author or self.author, epic_id=epic_row.id)
            else:
                row = self._issue_row(s, ref)
                assert row is not None
                note = self._note(s, body, author or self.author, issue_id=row.id)
            s.flush()
            return TrackedNote(author=note.author, body=note.body, created_at=note.created_at)

    def notes(self, ref: str) -> list[TrackedNote]:
        """The notes on an issue or epic, oldest first."""
        with self._reading() as s:
            if parse_epic_ref(ref) is not None:
                epic_row = self._epic_row(s, ref)
                assert epic_row is not None
                where = Note.epic_id == epic_row.id
            else:
                row = self._issue_row(s, ref)
                assert row is not None
                where = Note.issue_id == row.id
            rows = s.scalars(sa.select(Note).where(where).order_by(Note.created_at, Note.id))
            return [
                TrackedNote(author=n.author, body=n.body, created_at=n.created_at) for n in rows
            ]

    def state_events(self, refs: list[str] | None = None) -> list[StateEvent]:
        """The state changes of the given issues (or all issues), oldest first."""
        wanted: set[tuple[str, int]] | None = None
        if refs is not None:
            wanted = {(r.path, r.iid) for r in map(_issue_ref, refs)}
            if not wanted:
                return []
        with self._reading() as s:
            stmt = (
                sa.select(Namespace.full_path, Issue.iid, StateEventRow.state, StateEventRow.at)
                .join(Issue, StateEventRow.issue_id == Issue.id)
                .join(Namespace, Issue.project_id == Namespace.id)
                .order_by(StateEventRow.at, StateEventRow.id)
            )
            if wanted is not None:
                stmt = stmt.where(Namespace.full_path.in_(sorted({p for p, _ in wanted})))
            events: list[StateEvent] = []
            for path, iid, state, at in s.execute(stmt):
                if wanted is None or (path, iid) in wanted:
                    events.append(
                        StateEvent(
                            issue=f"{path}#{iid}",
                            state="closed" if state == "closed" else "opened",
                            at=at,
                        )
                    )
            return events

    # -- links and labels --------------------------------------------------------------------

    def link_issues(self, source: str, target: str, link_type: str = "relates_to") -> None:
        """Link two issues (idempotent)."""
        if link_type not in LINK_TYPES:
            raise UsageError(f"link type must be one of {', '.join(LINK_TYPES)}")
        with self._writing() as s:
            a, b = self._issue_row(s, source), self._issue_row(s, target)
            assert a is not None and b is not None
            if a.id == b.id:
                raise UsageError("an issue cannot be linked to itself")
            exists = s.scalar(
                sa.select(IssueLink).where(IssueLink.source_id == a.id, IssueLink.target_id == b.id)
            )
            if exists is None:
                s.add(IssueLink(source_id=a.id, target_id=b.id, link_type=link_type))

    def issue_links(self, ref: str) -> list[tuple[str, str]]:
        """``(link type, other issue ref)`` for every link from or to the issue."""
        with self._reading() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            links = s.scalars(
                sa.select(IssueLink).where(
                    sa.or_(IssueLink.source_id == row.id, IssueLink.target_id == row.id)
                )
            ).all()
            reverse = {"blocks": "is_blocked_by", "is_blocked_by": "blocks"}
            result: list[tuple[str, str]] = []
            for link in links:
                outgoing = link.source_id == row.id
                other = s.get(Issue, link.target_id if outgoing else link.source_id)
                assert other is not None
                kind = link.link_type if outgoing else reverse.get(link.link_type, link.link_type)
                result.append((kind, _issue_text(other)))
            return result

    def list_labels(self, group: str) -> list[str]:
        """Labels used in ``group`` so far, sorted."""
        with self._reading() as s:
            return list(
                s.scalars(
                    sa.select(Label.name)
                    .join(Namespace, Label.namespace_id == Namespace.id)
                    .where(Namespace.full_path == group.strip("/"))
                    .order_by(Label.name)
                )
            )

    # -- workflow ----------------------------------------------------------------------------

    def promote_issue(self, ref: str) -> TrackedEpic:
        """Promote an issue to an epic the way GitLab does.

        The epic goes in the project's group with the issue's title, description, labels,
        confidentiality and notes; the issue is closed with a note pointing to the epic.
        """
        with self._writing() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            issue_text = _issue_text(row)
            if row.promoted_to_epic_id is not None:
                done = s.get(Epic, row.promoted_to_epic_id)
                epic_text = _epic_text(done) if done else "an epic"
                raise TrackerError(
                    f"{issue_text} was already promoted to {epic_text}",
                    hint=f"Use the epic {epic_text}.",
                )
            group = row.project.parent
            if group is None:  # pragma: no cover - projects always have a group
                raise TrackerError(f"{issue_text} has no group to hold an epic")
            epic = self._new_epic(
                s, group, row.title, row.description, list(row.labels), row.confidential
            )
            epic_text = _epic_text(epic)
            old_notes = s.scalars(
                sa.select(Note).where(Note.issue_id == row.id).order_by(Note.created_at, Note.id)
            ).all()
            for old in old_notes:
                s.add(
                    Note(
                        epic_id=epic.id,
                        author=old.author,
                        body=old.body,
                        system=old.system,
                        created_at=old.created_at,
                    )
                )
            s.flush()
            self._note(s, f"promoted from issue {issue_text}", self.author, True, epic_id=epic.id)
            self._note(s, f"promoted to epic {epic_text}", self.author, True, issue_id=row.id)
            row.promoted_to_epic_id = epic.id
            self._set_state(s, row, "closed")
            s.flush()
            return _to_epic(epic)


def _conforms(tracker: LocalTracker) -> Tracker:
    """Never called: mypy checks here that LocalTracker implements the Tracker protocol."""
    return tracker
