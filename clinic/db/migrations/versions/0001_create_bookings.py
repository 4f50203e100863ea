"""Create the bookings table.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("patient_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("preferred_start", sa.String(length=32), nullable=True),
        sa.Column("callback_time", sa.Text(), nullable=True),
        sa.Column("concern", sa.Text(), nullable=True),
        sa.Column("new_patient", sa.Boolean(), nullable=True),
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.Column("blood_thinners", sa.Boolean(), nullable=True),
        sa.Column("needle_fear", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="requested", nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('booking', 'callback')", name=op.f("ck_bookings_kind")),
        sa.CheckConstraint(
            "status IN ('requested', 'confirmed', 'cancelled')", name=op.f("ck_bookings_status")
        ),
        sa.CheckConstraint(
            "kind = 'callback' OR preferred_start IS NOT NULL", name=op.f("ck_bookings_start")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_bookings_idempotency_key")),
        sa.UniqueConstraint("reference", name=op.f("uq_bookings_reference")),
    )
    op.create_index(
        op.f("ix_bookings_preferred_start"), "bookings", ["preferred_start"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bookings_preferred_start"), table_name="bookings")
    op.drop_table("bookings")
