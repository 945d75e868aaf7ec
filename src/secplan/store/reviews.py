"""Review threads on plan sections: comments, resolution and "feedback requested" flags.

A thread is anchored to a plan id and a section anchor, and remembers the section title it was
started on, so a thread whose anchor later disappears can still be shown (as outdated). Every
function takes an open session (``with store.session() as s:``) and returns plain dataclasses
that stay usable after the session ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from secplan.errors import NotFoundError, UsageError
from secplan.store.models import ReviewComment, ReviewThread, SectionFlag, utcnow

#: Longest comment accepted (characters); a review comment is not a document.
MAX_BODY = 20_000


@dataclass
class Comment:
    """One comment in a thread."""

    id: int
    author: str
    body: str
    created_at: datetime


@dataclass
class Thread:
    """A review thread with its comments, oldest first."""

    id: int
    plan_id: str
    anchor: str
    section_title: str
    author: str
    created_at: datetime
    resolved: bool = False
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    comments: list[Comment] = field(default_factory=list)


def _text(value: str, what: str, limit: int = 255) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"the {what} is empty")
    if len(value) > limit:
        raise UsageError(f"the {what} is longer than {limit} characters")
    return value


def _thread(row: ReviewThread) -> Thread:
    return Thread(
        id=row.id,
        plan_id=row.plan_id,
        anchor=row.anchor,
        section_title=row.section_title,
        author=row.author,
        created_at=row.created_at,
        resolved=row.resolved,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        comments=[Comment(c.id, c.author, c.body, c.created_at) for c in row.comments],
    )


def _row(session: Session, thread_id: int) -> ReviewThread:
    row = session.get(ReviewThread, thread_id, options=[selectinload(ReviewThread.comments)])
    if row is None:
        raise NotFoundError(f"review thread {thread_id} not found")
    return row


def create_thread(
    session: Session, plan_id: str, anchor: str, section_title: str, author: str, body: str
) -> Thread:
    """Start a thread on a section with its first comment."""
    now = utcnow()
    row = ReviewThread(
        plan_id=_text(plan_id, "plan id"),
        anchor=_text(anchor, "section anchor"),
        section_title=section_title.strip()[:500],
        author=_text(author, "author"),
        created_at=now,
        resolved=False,
    )
    row.comments.append(
        ReviewComment(author=row.author, body=_text(body, "comment", MAX_BODY), created_at=now)
    )
    session.add(row)
    session.flush()
    return _thread(row)


def add_comment(session: Session, thread_id: int, author: str, body: str) -> Comment:
    """Reply in a thread."""
    row = _row(session, thread_id)
    comment = ReviewComment(
        thread_id=row.id,
        author=_text(author, "author"),
        body=_text(body, "comment", MAX_BODY),
        created_at=utcnow(),
    )
    session.add(comment)
    session.flush()
    return Comment(comment.id, comment.author, comment.body, comment.created_at)


def resolve_thread(session: Session, thread_id: int, by: str) -> Thread:
    """Mark a thread resolved (resolving twice keeps the first resolver)."""
    row = _row(session, thread_id)
    if not row.resolved:
        row.resolved = True
        row.resolved_by = _text(by, "resolver")
        row.resolved_at = utcnow()
        session.flush()
    return _thread(row)


def reopen_thread(session: Session, thread_id: int) -> Thread:
    """Mark a resolved thread unresolved again."""
    row = _row(session, thread_id)
    row.resolved = False
    row.resolved_by = None
    row.resolved_at = None
    session.flush()
    return _thread(row)


def get_thread(session: Session, thread_id: int) -> Thread:
    """One thread with its comments."""
    return _thread(_row(session, thread_id))


def list_threads(session: Session, plan_id: str) -> list[Thread]:
    """Every thread of a plan (resolved ones too), oldest first."""
    rows = session.scalars(
        sa.select(ReviewThread)
        .where(ReviewThread.plan_id == plan_id)
        .options(selectinload(ReviewThread.comments))
        .order_by(ReviewThread.created_at, ReviewThread.id)
    ).all()
    return [_thread(r) for r in rows]


def open_thread_counts(session: Session) -> dict[str, int]:
    """plan id -> number of unresolved threads (plans without any are left out)."""
    rows = session.execute(
        sa.select(ReviewThread.plan_id, sa.func.count())
        .where(ReviewThread.resolved.is_(False))
        .group_by(ReviewThread.plan_id)
    )
    return {plan_id: int(count) for plan_id, count in rows}


def set_feedback_requested(
    session: Session, plan_id: str, anchor: str, requested: bool, by: str
) -> None:
    """Mark (or unmark) a section as one whose author asks for feedback."""
    plan_id, anchor = _text(plan_id, "plan id"), _text(anchor, "section anchor")
    row = session.scalar(
        sa.select(SectionFlag).where(SectionFlag.plan_id == plan_id, SectionFlag.anchor == anchor)
    )
    if row is None:
        row = SectionFlag(plan_id=plan_id, anchor=anchor)
        session.add(row)
    row.feedback_requested = requested
    row.by = by
    row.at = utcnow()
    session.flush()


def feedback_requested(session: Session, plan_id: str) -> dict[str, bool]:
    """section anchor -> True for the sections of a plan that ask for feedback."""
    rows = session.scalars(
        sa.select(SectionFlag.anchor).where(
            SectionFlag.plan_id == plan_id, SectionFlag.feedback_requested.is_(True)
        )
    )
    return dict.fromkeys(rows, True)
