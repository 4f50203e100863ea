"""SQLAlchemy models of the app database (SQLAlchemy 1.4, the line rasa 3.6 pins).

The table ``bookings`` is a contract (``shared/DESIGN.md``). Schema changes go
through a new Alembic revision under ``clinic/db/migrations/versions``; a test
checks that these models and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base

KINDS = ("booking", "callback")
STATUSES = ("requested", "confirmed", "cancelled")
ACTIVE_STATUSES = ("requested", "confirmed")  # the ones that take a slot

# Named constraints, so that later migrations (and SQLite batch mode) can address them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Booking(Base):
    """A booking or call-back request from a chat, for staff to confirm."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("kind IN ('booking', 'callback')", name="kind"),
        CheckConstraint("status IN ('requested', 'confirmed', 'cancelled')", name="status"),
        CheckConstraint("kind = 'callback' OR preferred_start IS NOT NULL", name="start"),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)  # RC-7K4M2Q, shown to the patient
    kind = Column(String(16), nullable=False, default="booking")
    patient_name = Column(String(100), nullable=False)
    phone = Column(String(20), nullable=False)  # E.164
    email = Column(String(254))
    preferred_start = Column(String(32), index=True)  # ISO 8601 with offset, clinic timezone
    callback_time = Column(Text)  # call-backs: when to call, as the patient put it
    concern = Column(Text)
    new_patient = Column(Boolean)
    # Answers for the practitioner; None = not asked or not sure.
    pregnant = Column(Boolean)
    blood_thinners = Column(Boolean)
    needle_fear = Column(Boolean)
    status = Column(String(16), nullable=False, default="requested", server_default="requested")
    conversation_id = Column(String(255))  # Rasa sender id
    idempotency_key = Column(String(128), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)  # UTC
