"""Sync records keyed by the tracker's identity, a cache of remote tracker ids, no lock rows.

Records written before belong to the embedded tracker (``local``). The apply lock became a file
lock (SQLite) or an advisory lock (PostgreSQL) that writes nothing, so the ``locks`` table goes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tracker", sa.String(length=512), nullable=False, server_default="local")
        )
        batch_op.drop_constraint("uq_sync_state_plan_id_kind_item_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_sync_state_tracker_plan_id_kind_item_id"),
            ["tracker", "plan_id", "kind", "item_id"],
        )
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.alter_column("tracker", server_default=None)
    op.create_table(
        "remote_ids",
        sa.Column("tracker", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("value", sa.String(length=1024), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tracker", "kind", "key", name=op.f("pk_remote_ids")),
    )
    op.drop_table("locks")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_table(
        "locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locks")),
        sa.UniqueConstraint("name", name=op.f("uq_locks_name")),
    )
    op.drop_table("remote_ids")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sync_state_tracker_plan_id_kind_item_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_sync_state_plan_id_kind_item_id", ["plan_id", "kind", "item_id"]
        )
        batch_op.drop_column("tracker")
