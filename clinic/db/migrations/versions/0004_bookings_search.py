"""Bookings at real volume: indexes for the staff list's keyset paging, its status and
kind filters and its phone search.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_bookings_order": ["created_at", "id"],
    "ix_bookings_status_order": ["status", "created_at", "id"],
    "ix_bookings_kind_order": ["kind", "created_at", "id"],
    "ix_bookings_phone": ["phone"],
}


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
