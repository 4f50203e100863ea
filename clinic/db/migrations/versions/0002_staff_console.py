"""The staff console: accounts, sessions, login throttling, reviews, tags, notes,
audit log and the index of the tracker store's conversations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("first_message", sa.Text(), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("red_flag", sa.Boolean(), nullable=False),
        sa.Column("booking", sa.Boolean(), nullable=False),
        sa.Column("low_confidence", sa.Boolean(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("last_user_event", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_index")),
        sa.UniqueConstraint("sender_id", name=op.f("uq_conversation_index_sender_id")),
    )
    with op.batch_alter_table("conversation_index", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_index_order", ["pinned", "started_at", "id"], unique=False
        )

    op.create_table(
        "conversation_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_index_state")),
    )
    op.create_table(
        "conversation_intents",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "intent", name=op.f("pk_conversation_intents")),
    )
    with op.batch_alter_table("conversation_intents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_intents_intent"), ["intent"], unique=False
        )

    op.create_table(
        "conversation_reviews",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("note_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_reviews")),
    )
    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name=op.f("pk_conversation_tags")),
    )
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "inbox_messages",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("best_guess", sa.String(length=100), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox_messages")),
    )
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_messages_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbox_messages_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit")),
    )
    with op.batch_alter_table("staff_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_audit_at"), ["at"], unique=False)

    op.create_table(
        "staff_login_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_login_throttle")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'staff')", name=op.f("ck_staff_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_users_name")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_user_id"))

    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
    op.drop_table("staff_login_throttle")
    with op.batch_alter_table("staff_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_audit_at"))

    op.drop_table("staff_audit")
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_messages_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_messages_at"))

    op.drop_table("inbox_messages")
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_tags_tag"))

    op.drop_table("conversation_tags")
    op.drop_table("conversation_reviews")
    with op.batch_alter_table("conversation_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_intents_intent"))

    op.drop_table("conversation_intents")
    op.drop_table("conversation_index_state")
    with op.batch_alter_table("conversation_index", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_index_order")

    op.drop_table("conversation_index")
