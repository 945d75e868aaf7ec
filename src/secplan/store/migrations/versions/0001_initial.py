"""Initial schema: namespaces, epics, issues, milestones, notes, links, state events, sync state,
locks, review threads and web users.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locks")),
        sa.UniqueConstraint("name", name=op.f("uq_locks_name")),
    )
    op.create_table(
        "namespaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_path", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("issue_iid_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("epic_iid_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["namespaces.id"], name=op.f("fk_namespaces_parent_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_namespaces")),
        sa.UniqueConstraint("full_path", name=op.f("uq_namespaces_full_path")),
    )
    with op.batch_alter_table("namespaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_namespaces_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "review_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=255), nullable=False),
        sa.Column("anchor", sa.String(length=255), nullable=False),
        sa.Column("section_title", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_threads")),
    )
    with op.batch_alter_table("review_threads", schema=None) as batch_op:
        batch_op.create_index("ix_review_threads_plan", ["plan_id", "anchor"], unique=False)

    op.create_table(
        "section_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=255), nullable=False),
        sa.Column("anchor", sa.String(length=255), nullable=False),
        sa.Column("feedback_requested", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section_flags")),
        sa.UniqueConstraint("plan_id", "anchor", name=op.f("uq_section_flags_plan_id_anchor")),
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=512), nullable=True),
        sa.Column("content_hash", sa.String(length=128), nullable=True),
        sa.Column("pushed", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
        sa.UniqueConstraint(
            "plan_id", "kind", "item_id", name=op.f("uq_sync_state_plan_id_kind_item_id")
        ),
    )
    op.create_table(
        "epics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("iid", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["namespaces.id"],
            name=op.f("fk_epics_group_id_namespaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["epics.id"], name=op.f("fk_epics_parent_id_epics"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epics")),
        sa.UniqueConstraint("group_id", "iid", name=op.f("uq_epics_group_id_iid")),
    )
    with op.batch_alter_table("epics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epics_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("color", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespaces.id"],
            name=op.f("fk_labels_namespace_id_namespaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_labels_namespace_id_name")),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["namespaces.id"],
            name=op.f("fk_milestones_group_id_namespaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("group_id", "title", name=op.f("uq_milestones_group_id_title")),
    )
    op.create_table(
        "review_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["review_threads.id"],
            name=op.f("fk_review_comments_thread_id_review_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comments")),
    )
    with op.batch_alter_table("review_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_comments_thread_id"), ["thread_id"], unique=False
        )

    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("iid", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("assignees", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("epic_id", sa.Integer(), nullable=True),
        sa.Column("promoted_to_epic_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["epic_id"], ["epics.id"], name=op.f("fk_issues_epic_id_epics"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_issues_milestone_id_milestones"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["namespaces.id"],
            name=op.f("fk_issues_project_id_namespaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promoted_to_epic_id"],
            ["epics.id"],
            name=op.f("fk_issues_promoted_to_epic_id_epics"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
        sa.UniqueConstraint("project_id", "iid", name=op.f("uq_issues_project_id_iid")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issues_epic_id"), ["epic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index("ix_issues_project_state", ["project_id", "state"], unique=False)

    op.create_table(
        "issue_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("link_type", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["issues.id"],
            name=op.f("fk_issue_links_source_id_issues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["issues.id"],
            name=op.f("fk_issue_links_target_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_links")),
        sa.UniqueConstraint(
            "source_id", "target_id", name=op.f("uq_issue_links_source_id_target_id")
        ),
    )
    with op.batch_alter_table("issue_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_links_target_id"), ["target_id"], unique=False)

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("epic_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("system", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(issue_id IS NULL) <> (epic_id IS NULL)", name=op.f("ck_notes_one_parent")
        ),
        sa.ForeignKeyConstraint(
            ["epic_id"], ["epics.id"], name=op.f("fk_notes_epic_id_epics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_notes_issue_id_issues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_epic_id"), ["epic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notes_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "state_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_state_events_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_events")),
    )
    with op.batch_alter_table("state_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_state_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_state_events_issue_id"), ["issue_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("state_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_state_events_issue_id"))
        batch_op.drop_index(batch_op.f("ix_state_events_at"))

    op.drop_table("state_events")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_issue_id"))
        batch_op.drop_index(batch_op.f("ix_notes_epic_id"))

    op.drop_table("notes")
    with op.batch_alter_table("issue_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_links_target_id"))

    op.drop_table("issue_links")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index("ix_issues_project_state")
        batch_op.drop_index(batch_op.f("ix_issues_milestone_id"))
        batch_op.drop_index(batch_op.f("ix_issues_epic_id"))

    op.drop_table("issues")
    with op.batch_alter_table("review_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_comments_thread_id"))

    op.drop_table("review_comments")
    op.drop_table("milestones")
    op.drop_table("labels")
    with op.batch_alter_table("epics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epics_parent_id"))

    op.drop_table("epics")
    op.drop_table("sync_state")
    op.drop_table("section_flags")
    with op.batch_alter_table("review_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_review_threads_plan")

    op.drop_table("review_threads")
    with op.batch_alter_table("namespaces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_namespaces_parent_id"))

    op.drop_table("namespaces")
    op.drop_table("locks")
