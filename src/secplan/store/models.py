"""The database schema, as SQLAlchemy 2 typed ORM classes.

One schema serves the embedded tracker (namespaces, epics, issues, milestones, notes, links and the
state-event log), sync's bookkeeping (``sync_state``, ``locks``) and the web UI's review threads.
Alembic migrations in ``secplan/store/migrations`` create exactly these tables; a test compares
the two so they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that goes in and comes out timezone-aware in UTC on every backend.

    PostgreSQL keeps the offset (``timestamptz``); SQLite keeps none, so values are stored as
    naive UTC and the zone is put back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Constraint names are fixed so migrations can refer to them on both backends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads it as a class var
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[str]: sa.JSON(),
    }


class Namespace(Base):
    """A group or a project, by full path (``sec/appsec`` group, ``sec/appsec/plans`` project).

    The per-namespace counters hand out iids: issues in a project and epics in a group are
    numbered 1, 2, 3... the way GitLab numbers them, and the counter row is what serialises two
    writers allocating at once.
    """

    __tablename__ = "namespaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_path: Mapped[str] = mapped_column(sa.String(255), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # "group" | "project"
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("namespaces.id"), index=True)
    issue_iid_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    epic_iid_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Namespace | None] = relationship(remote_side=[id], lazy="joined")


class Label(Base):
    """A label known in a group (created on first use, like a GitLab group label)."""

    __tablename__ = "labels"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace_id: Mapped[int] = mapped_column(sa.ForeignKey("namespaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(255))
    color: Mapped[str] = mapped_column(sa.String(16), default="#6699cc")
    description: Mapped[str] = mapped_column(sa.Text, default="")


class Milestone(Base):
    """A group milestone, named by its title (unique within the group)."""

    __tablename__ = "milestones"
    __table_args__ = (sa.UniqueConstraint("group_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("namespaces.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(255))
    start_date: Mapped[date | None]
    due_date: Mapped[date | None]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[str] = mapped_column(sa.String(16), default="opened")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Namespace] = relationship(lazy="joined")


class Epic(Base):
    """An epic in a group: ``group&iid``."""

    __tablename__ = "epics"
    __table_args__ = (sa.UniqueConstraint("group_id", "iid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("namespaces.id", ondelete="CASCADE"))
    iid: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    labels: Mapped[list[str]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(sa.String(16), default="opened")
    confidential: Mapped[bool] = mapped_column(default=True)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("epics.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    group: Mapped[Namespace] = relationship(lazy="joined")
    parent: Mapped[Epic | None] = relationship(remote_side=[id])


class Issue(Base):
    """An issue in a project: ``group/project#iid``."""

    __tablename__ = "issues"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "iid"),
        sa.Index("ix_issues_project_state", "project_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("namespaces.id", ondelete="CASCADE"))
    iid: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    labels: Mapped[list[str]] = mapped_column(default=list)
    milestone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="SET NULL"), index=True
    )
    assignees: Mapped[list[str]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(sa.String(16), default="opened")
    confidential: Mapped[bool] = mapped_column(default=True)
    epic_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("epics.id", ondelete="SET NULL"), index=True
    )
    promoted_to_epic_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("epics.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    project: Mapped[Namespace] = relationship(lazy="joined")
    milestone: Mapped[Milestone | None] = relationship(lazy="joined")
    epic: Mapped[Epic | None] = relationship(foreign_keys=[epic_id], lazy="joined")
    promoted_to: Mapped[Epic | None] = relationship(foreign_keys=[promoted_to_epic_id])


class Note(Base):
    """A comment on an issue or an epic; ``system`` notes record what the tool did."""

    __tablename__ = "notes"
    __table_args__ = (
        sa.CheckConstraint("(issue_id IS NULL) <> (epic_id IS NULL)", name="one_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    epic_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("epics.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    system: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssueLink(Base):
    """A link between two issues (``relates_to``, ``blocks``, ``is_blocked_by``)."""

    __tablename__ = "issue_links"
    __table_args__ = (sa.UniqueConstraint("source_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    link_type: Mapped[str] = mapped_column(sa.String(32), default="relates_to")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StateEventRow(Base):
    """An issue moved to a state (opened on creation, closed, reopened): the burn-up log."""

    __tablename__ = "state_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SyncState(Base):
    """What sync last pushed for one plan object. Sync owns the meaning of these columns."""

    __tablename__ = "sync_state"
    __table_args__ = (sa.UniqueConstraint("tracker", "plan_id", "kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the tracker's identity ("local", "gitlab:https://host"): records of two backends never mix
    tracker: Mapped[str] = mapped_column(sa.String(512), default="local")
    plan_id: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(32))
    item_id: Mapped[str] = mapped_column(sa.String(255))
    ref: Mapped[str | None] = mapped_column(sa.String(512))
    content_hash: Mapped[str | None] = mapped_column(sa.String(128))
    pushed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemoteId(Base):
    """A remote tracker's id for a name (project path -> id, username -> id, ...), cached so a
    no-op sync does not look it up again."""

    __tablename__ = "remote_ids"

    tracker: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(1024), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(1024))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewThread(Base):
    """A review discussion anchored to one section of a plan (plan id + section anchor)."""

    __tablename__ = "review_threads"
    __table_args__ = (sa.Index("ix_review_threads_plan", "plan_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(sa.String(255))
    anchor: Mapped[str] = mapped_column(sa.String(255))
    section_title: Mapped[str] = mapped_column(sa.String(500), default="")
    author: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(default=False)
    resolved_by: Mapped[str | None] = mapped_column(sa.String(255))
    resolved_at: Mapped[datetime | None]

    comments: Mapped[list[ReviewComment]] = relationship(
        back_populates="thread",
        order_by="ReviewComment.id",
        cascade="all, delete-orphan",
    )


class ReviewComment(Base):
    """One comment in a review thread."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review_threads.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    thread: Mapped[ReviewThread] = relationship(back_populates="comments")


class SectionFlag(Base):
    """A section whose author asked for feedback."""

    __tablename__ = "section_flags"
    __table_args__ = (sa.UniqueConstraint("plan_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(sa.String(255))
    anchor: Mapped[str] = mapped_column(sa.String(255))
    feedback_requested: Mapped[bool] = mapped_column(default=False)
    by: Mapped[str | None] = mapped_column(sa.String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)
