"""The embedded tracker: GitLab's shapes and reference syntax on top of the secplan store.

Groups and projects are created by path the first time they are used; issues are
``group/project#iid``, epics ``group&iid``, milestones are group milestones resolved through the
project's ancestor groups as GitLab resolves them. Every method is one transaction unless it runs
inside :meth:`LocalTracker.transaction`. A tracker is meant for one thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from secplan.errors import ConflictError, NotFoundError, TrackerError, UsageError
from secplan.refs import parse_epic_ref
from secplan.store.models import (
    Base,
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
    UNSET,
    AccessProblem,
    Capabilities,
    EpicUpdate,
    IssueUpdate,
    ListIssuesFromIter,
    MilestoneUpdate,
    StateEvent,
    TrackedEpic,
    TrackedIssue,
    TrackedMilestone,
    TrackedNote,
    Tracker,
)
from secplan.tracker.local_base import StoreAccess
from secplan.tracker.local_rows import (
    LINK_TYPES,
    check_path,
    check_title,
    clean_list,
    default_author,
    epic_ref_of,
    in_namespace,
    issue_ref_of,
    issue_select,
    parse_issue,
    row_to_issue,
    to_epic,
    to_issue,
    to_milestone,
)

__all__ = ["LocalTracker", "default_author"]

_INSERT_ISSUE = sa.insert(Base.metadata.tables["issues"]).returning(
    Base.metadata.tables["issues"].c.id
)
_INSERT_EVENT = sa.insert(Base.metadata.tables["state_events"])


class LocalTracker(StoreAccess, ListIssuesFromIter):
    """The :class:`~secplan.tracker.base.Tracker` protocol on the embedded store.

    Beyond the protocol: :meth:`transaction` (several calls, one commit), :meth:`lock` (a named
    lock for ``apply``), :meth:`get_issues` (many refs, one query), issue links and labels.
    """

    identity = "local"

    @property
    def capabilities(self) -> Capabilities:
        """Epics of its own, several assignees, GitLab's link types."""
        return Capabilities(epics="local", multiple_assignees=True, link_types=LINK_TYPES)

    def check_access(self, projects: Iterable[str], groups: Iterable[str]) -> list[AccessProblem]:
        """Paths GitLab would refuse (the local tracker creates groups and projects on use)."""
        problems: list[AccessProblem] = []
        for kind, paths in (("project", projects), ("group", groups)):
            for path in sorted(set(paths)):
                try:
                    check_path(path, kind)  # type: ignore[arg-type]
                except UsageError as exc:
                    problems.append(AccessProblem(path, kind, exc.message, exc.hint))  # type: ignore[arg-type]
        return problems

    # -- epics -------------------------------------------------------------------------------

    def get_epic(self, ref: str) -> TrackedEpic | None:
        """The epic ``group&iid``, or None if there is none."""
        with self._reading() as s:
            row = self._epic_row(s, ref, required=False)
            return to_epic(row) if row else None

    def find_epics(self, group: str, marker: str) -> list[TrackedEpic]:
        """Epics in ``group`` (and its subgroups) whose description contains ``marker``."""
        with self._reading() as s:
            rows = s.scalars(
                sa.select(Epic)
                .join(Namespace, Epic.group_id == Namespace.id)
                .where(in_namespace(group), Epic.description.contains(marker, autoescape=True))
                .order_by(Namespace.full_path, Epic.iid)
            ).all()
            # SQLite's LIKE ignores case; the marker must match exactly.
            return [to_epic(r) for r in rows if marker in r.description]

    def create_epic(
        self,
        group: str,
        title: str,
        description: str = "",
        labels: list[str] | None = None,
        confidential: bool = True,
    ) -> TrackedEpic:
        """A new epic in ``group`` (created if new) with the next iid."""
        title = check_title(title)
        clean = clean_list(labels)
        with self._writing() as s:
            ns = self._ns(s, group, "group")
            row = self._new_epic(s, ns, title, description, clean, confidential)
            return to_epic(row)

    def update_epic(self, ref: str, update: EpicUpdate) -> TrackedEpic:
        """Change an epic's title, description, labels, confidentiality or state."""
        with self._writing() as s:
            row = self._epic_row(s, ref)
            assert row is not None
            self._apply_common(s, row, update)
            if update.state_event is not UNSET:
                state = _state_of(update.state_event)
                if row.state != state:
                    row.state = state
                    row.closed_at = utcnow() if state == "closed" else None
            row.updated_at = utcnow()
            s.flush()
            return to_epic(row)

    def set_epic_parent(self, ref: str, parent: str | None) -> TrackedEpic:
        """Put an epic under ``parent`` (None: at the top)."""
        with self._writing() as s:
            row = self._epic_row(s, ref)
            assert row is not None
            up = self._epic_row(s, parent) if parent else None
            if up is not None and up.id == row.id:
                raise UsageError("an epic cannot be its own parent")
            row.parent_id = up.id if up else None
            row.updated_at = utcnow()
            s.flush()
            return to_epic(row)

    def list_epics(self, group: str | None = None) -> list[TrackedEpic]:
        """All epics, or those of ``group`` and its subgroups, by group path and iid."""
        with self._reading() as s:
            stmt = sa.select(Epic).join(Namespace, Epic.group_id == Namespace.id)
            if group:
                stmt = stmt.where(in_namespace(group.strip("/")))
            rows = s.scalars(stmt.order_by(Namespace.full_path, Epic.iid)).all()
            return [to_epic(r) for r in rows]

    def epic_parent(self, ref: str) -> str | None:
        """The parent epic's ref, if the epic has one."""
        with self._reading() as s:
            row = self._epic_row(s, ref)
            assert row is not None
            return epic_ref_of(row.parent) if row.parent else None

    # -- milestones --------------------------------------------------------------------------

    def get_milestone(self, group: str, title: str) -> TrackedMilestone | None:
        """The milestone ``title`` of exactly this group, or None."""
        with self._reading() as s:
            row = _milestone_row(s, group, title)
            return to_milestone(row) if row else None

    def create_milestone(
        self,
        group: str,
        title: str,
        start: date | None = None,
        due: date | None = None,
        description: str = "",
    ) -> TrackedMilestone:
        """A new group milestone; its title must be new in the group."""
        title = check_title(title)
        if start and due and due < start:
            raise UsageError(f"milestone {title!r} is due ({due}) before it starts ({start})")
        with self._writing() as s:
            ns = self._ns(s, group, "group")
            exists = s.scalar(
                sa.select(Milestone.id).where(Milestone.group_id == ns.id, Milestone.title == title)
            )
            if exists:
                raise TrackerError(f"milestone {title!r} already exists in {ns.path}")
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
            return to_milestone(row)

    def update_milestone(self, group: str, title: str, update: MilestoneUpdate) -> TrackedMilestone:
        """Change a milestone's title, start, due, description or state."""
        with self._writing() as s:
            row = _milestone_row(s, group, title)
            if row is None:
                raise NotFoundError(
                    f"milestone {title!r} not found in {group}",
                    hint="List milestones with: secplan milestone list " + group,
                )
            if update.title is not UNSET:
                row.title = check_title(str(update.title))
            if update.start is not UNSET:
                row.start_date = update.start
            if update.due is not UNSET:
                row.due_date = update.due
            if update.description is not UNSET:
                row.description = str(update.description or "")
            if update.state_event is not UNSET:
                if update.state_event not in ("close", "activate"):
                    event = update.state_event
                    raise UsageError(f"a milestone state event is close or activate, not {event!r}")
                row.state = "closed" if update.state_event == "close" else "opened"
            row.updated_at = utcnow()
            s.flush()
            return to_milestone(row)

    def list_milestones(self, group: str | None = None) -> list[TrackedMilestone]:
        """All milestones, or those of ``group`` and its subgroups."""
        with self._reading() as s:
            stmt = sa.select(Milestone).join(Namespace, Milestone.group_id == Namespace.id)
            if group:
                stmt = stmt.where(in_namespace(group.strip("/")))
            stmt = stmt.order_by(
                Namespace.full_path, Milestone.due_date.is_(None), Milestone.due_date, Milestone.id
            )
            return [to_milestone(r) for r in s.scalars(stmt).all()]

    # -- issues ------------------------------------------------------------------------------

    def get_issue(self, ref: str) -> TrackedIssue | None:
        """The issue ``group/project#iid``, or None if there is none."""
        with self._reading() as s:
            row = self._issue_row(s, ref, required=False)
            return to_issue(row) if row else None

    def get_issues(self, refs: Iterable[str]) -> dict[str, TrackedIssue]:
        """Many issues at once, keyed by the refs asked for; missing ones are left out."""
        wanted: dict[tuple[str, int], list[str]] = {}
        for text in refs:
            parsed = parse_issue(text)
            wanted.setdefault((parsed.path, parsed.iid), []).append(text)
        found: dict[str, TrackedIssue] = {}
        if not wanted:
            return found
        paths = sorted({path for path, _ in wanted})
        with self._reading() as s:
            for start in range(0, len(paths), 500):
                rows = s.execute(
                    issue_select().where(Namespace.full_path.in_(paths[start : start + 500]))
                )
                for row in rows:
                    for text in wanted.get((row[0], row[1]), ()):
                        found[text] = row_to_issue(row)
        return found

    def find_issues(self, project: str, marker: str) -> list[TrackedIssue]:
        """Issues in ``project`` (or a group's projects) whose description has ``marker``."""
        with self._reading() as s:
            rows = s.execute(
                issue_select()
                .where(
                    in_namespace(project.strip("/")),
                    Issue.description.contains(marker, autoescape=True),
                )
                .order_by(Namespace.full_path, Issue.iid)
            )
            return [row_to_issue(r) for r in rows if marker in r[3]]

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
        title = check_title(title)
        clean_labels = clean_list(labels)
        with self._writing() as s:
            # Core statements only: no ORM objects to build, flush, refresh and expunge.
            ns = self._ns(s, project, "project")
            milestone_id = self._milestone_id(s, ns, milestone) if milestone else None
            epic_id, epic_text = self._epic_id(s, epic) if epic else (None, None)
            now = utcnow()
            clean_assignees = clean_list(assignees)
            iid = self._allocate_iid(s, ns.id, "issue_iid_seq")
            values = {
                "project_id": ns.id,
                "iid": iid,
                "title": title,
                "description": description,
                "labels": clean_labels,
                "milestone_id": milestone_id,
                "assignees": clean_assignees,
                "state": "opened",
                "confidential": confidential,
                "epic_id": epic_id,
                "created_at": now,
                "updated_at": now,
            }
            conn = s.connection()
            issue_id = conn.execute(_INSERT_ISSUE, values).scalar_one()
            conn.execute(_INSERT_EVENT, {"issue_id": issue_id, "state": "opened", "at": now})
            self._register_labels(s, ns.path, ns.kind, clean_labels)
            return TrackedIssue(
                ref=f"{ns.path}#{iid}",
                project=ns.path,
                iid=iid,
                title=title,
                description=description,
                labels=list(clean_labels),
                milestone=milestone if milestone_id is not None else None,
                assignees=list(clean_assignees),
                state="opened",
                confidential=confidential,
                epic=epic_text,
                created_at=now,
                closed_at=None,
            )

    def update_issue(self, ref: str, update: IssueUpdate) -> TrackedIssue:
        """Change an issue as GitLab's edit does: labels added and removed atomically inside the
        write transaction (labels someone added meanwhile survive), ``milestone``/``epic`` None
        to remove, ``state_event`` close or reopen."""
        with self._writing() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            self._apply_common(s, row, update)
            if update.assignees is not UNSET:
                row.assignees = clean_list(update.assignees)
            if update.milestone is not UNSET:
                project = self._ns(s, row.project.full_path, "project")
                milestone = update.milestone
                row.milestone_id = self._milestone_id(s, project, milestone) if milestone else None
            if update.epic is not UNSET:
                e = self._epic_row(s, str(update.epic)) if update.epic else None
                row.epic_id = e.id if e else None
            if update.state_event is not UNSET:
                state = _state_of(update.state_event)
                if state == "opened" and row.promoted_to_epic_id is not None:
                    raise ConflictError(f"{ref} was promoted to an epic and cannot be reopened")
                self._set_state(s, row, state)
            row.updated_at = utcnow()
            s.flush()
            s.refresh(row)
            return to_issue(row)

    def close_issue(self, ref: str, note: str | None = None) -> TrackedIssue:
        """Close the issue (a no-op if closed), optionally leaving a note."""
        with self._writing() as s:
            row = self._issue_row(s, ref)
            assert row is not None
            if note:
                self._note(s, note, self.author, issue_id=row.id)
            self._set_state(s, row, "closed")
            s.flush()
            return to_issue(row)

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
            return to_issue(row)

    def iter_issues(
        self,
        project: str | None = None,
        state: str = "opened",
        epic: str | None = None,
        labels: list[str] | None = None,
        milestone: str | None = None,
    ) -> Iterator[TrackedIssue]:
        """Issues filtered like GitLab's list: by project (or group), state, epic, labels (all
        of them), milestone title; streamed in batches, ordered by project path and iid."""
        if state not in ("opened", "closed", "all"):
            raise UsageError(f"state must be opened, closed or all, not {state!r}")
        wanted_labels = set(clean_list(labels))
        with self._reading() as s:
            stmt = issue_select()
            if project:
                stmt = stmt.where(in_namespace(project.strip("/")))
            if state != "all":
                stmt = stmt.where(Issue.state == state)
            if epic:
                epic_row = self._epic_row(s, epic, required=False)
                if epic_row is None:
                    return
                stmt = stmt.where(Issue.epic_id == epic_row.id)
            if milestone:
                stmt = stmt.where(Milestone.title == milestone)
            rows = s.execute(
                stmt.order_by(Namespace.full_path, Issue.iid).execution_options(yield_per=1000)
            )
            for r in rows:
                if not wanted_labels or wanted_labels <= set(r[4]):
                    yield row_to_issue(r)

    def add_note(self, ref: str, body: str, author: str | None = None) -> TrackedNote:
        """Comment on an issue (``group/project#iid``) or an epic (``group&iid``)."""
        with self._writing() as s:
            note = self._note(s, body, author or self.author, False, **self._note_owner(s, ref))
            s.flush()
            return TrackedNote(author=note.author, body=note.body, created_at=note.created_at)

    def _note_owner(self, s: Session, ref: str) -> dict[str, int]:
        """The note column naming ``ref``'s row: ``{"epic_id": ...}`` or ``{"issue_id": ...}``."""
        if parse_epic_ref(ref) is not None:
            epic_row = self._epic_row(s, ref)
            assert epic_row is not None
            return {"epic_id": epic_row.id}
        row = self._issue_row(s, ref)
        assert row is not None
        return {"issue_id": row.id}

    def notes(self, ref: str) -> list[TrackedNote]:
        """The notes on an issue or epic, oldest first."""
        with self._reading() as s:
            rows = s.scalars(
                sa.select(Note)
                .filter_by(**self._note_owner(s, ref))
                .order_by(Note.created_at, Note.id)
            )
            return [
                TrackedNote(author=n.author, body=n.body, created_at=n.created_at) for n in rows
            ]

    def state_events(self, refs: list[str] | None = None) -> list[StateEvent]:
        """The state changes of the given issues (or all issues), oldest first."""
        wanted: set[tuple[str, int]] | None = None
        if refs is not None:
            wanted = {(r.path, r.iid) for r in map(parse_issue, refs)}
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
                result.append((kind, issue_ref_of(other)))
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
            issue_text = issue_ref_of(row)
            if row.promoted_to_epic_id is not None:
                epic_text = epic_ref_of(row.promoted_to) if row.promoted_to else "an epic"
                raise TrackerError(
                    f"{issue_text} was already promoted to {epic_text}",
                    hint=f"Use the epic {epic_text}.",
                )
            parent = row.project.parent
            if parent is None:  # pragma: no cover - projects always have a group
                raise TrackerError(f"{issue_text} has no group to hold an epic")
            group = self._ns(s, parent.full_path, "group")
            epic = self._new_epic(
                s, group, row.title, row.description, list(row.labels), row.confidential
            )
            epic_text = epic_ref_of(epic)
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
            return to_epic(epic)


def _state_of(event: object) -> str:
    """The state a ``state_event`` leads to."""
    if event == "close":
        return "closed"
    if event == "reopen":
        return "opened"
    raise UsageError(f"a state event is close or reopen, not {event!r}")


def _milestone_row(s: Session, group: str, title: str) -> Milestone | None:
    """The milestone ``title`` of exactly the group ``group``."""
    return s.scalar(
        sa.select(Milestone)
        .join(Namespace, Milestone.group_id == Namespace.id)
        .where(Namespace.full_path == group.strip("/"), Milestone.title == title)
    )


def _conforms(tracker: LocalTracker) -> Tracker:
    """Never called: mypy checks here that LocalTracker implements the Tracker protocol."""
    return tracker
