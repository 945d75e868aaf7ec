"""Rewriting the embedded tracker's history (used by ``secplan serve --demo``)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from secplan.store.engine import Store
from secplan.store.models import Issue, StateEventRow, utcnow


def spread_history(store: Store, history: timedelta) -> None:
    """Spread the tracker's history over the past ``history`` (the demo's past weeks), so the
    burn-up charts have a shape: issues appear over the first half, closes over the second."""
    now = utcnow()
    with store.session() as s:
        rows = s.scalars(sa.select(StateEventRow).order_by(StateEventRow.id)).all()
        opened = [r for r in rows if r.state == "opened"]
        closed = [r for r in rows if r.state == "closed"]
        for n, row in enumerate(opened):
            # Issues appear over the first half of the history, closes over the second half.
            row.at = now - history + history / 2 * n / max(1, len(opened))
        for n, row in enumerate(closed):
            row.at = now - history / 2 + history / 2 * (n + 1) / (len(closed) + 1)
        s.flush()
        first = {r.issue_id: r.at for r in opened}
        last_close = {r.issue_id: r.at for r in closed}
        for issue in s.scalars(sa.select(Issue)).all():
            if issue.id in first:
                issue.created_at = first[issue.id]
            if issue.id in last_close and issue.state == "closed":
                issue.closed_at = last_close[issue.id]
