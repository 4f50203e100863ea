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
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.sql.expression import true as sa_true

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
        # The staff list: newest first by key, alone or under a status or kind filter.
        Index("ix_bookings_order", "created_at", "id"),
        Index("ix_bookings_status_order", "status", "created_at", "id"),
        Index("ix_bookings_kind_order", "kind", "created_at", "id"),
        Index("ix_bookings_phone", "phone"),  # search by phone (E.164, exact)
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


# --- the staff console -------------------------------------------------------------
# Staff accounts, their sessions and login throttling; what staff add to conversations
# (reviews, notes, tags); the audit log; and an index of the tracker store's
# conversations, derived from Rasa's ``events`` (never written back) so the list can
# filter and page at 100,000 conversations.

ROLES = ("admin", "staff")


class StaffUser(Base):
    """A person who logs in to the staff console."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'staff')", name="role"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)  # argon2id, with its parameters
    active = Column(Boolean, nullable=False, default=True, server_default=sa_true())
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    last_login_at = Column(DateTime(timezone=True))


class StaffSession(Base):
    """A logged-in browser; the cookie holds the token, the table only its keyed hash."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(
        Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    last_seen_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)


class LoginThrottle(Base):
    """Failed logins per account (``user:NAME``) and per address (``addr:IP``)."""

    __tablename__ = "staff_login_throttle"

    key = Column(String(300), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    window_start = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    locked_until = Column(DateTime(timezone=True))


class ConversationReview(Base):
    """A conversation marked reviewed, and the staff note on it."""

    __tablename__ = "conversation_reviews"

    conversation_id = Column(String(255), primary_key=True)  # Rasa sender id
    reviewed_at = Column(DateTime(timezone=True))
    reviewed_by = Column(String(64))
    note = Column(Text)
    note_by = Column(String(64))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"

    conversation_id = Column(String(255), primary_key=True)
    tag = Column(String(40), primary_key=True, index=True)


class AuditEntry(Base):
    """Who viewed, exported or changed what, and when."""

    __tablename__ = "staff_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utc_now, index=True)
    user_name = Column(String(64), nullable=False)
    action = Column(String(40), nullable=False)
    target = Column(String(300), nullable=False, default="")
    detail = Column(Text)


class ConversationIndex(Base):
    """One row per conversation of the tracker store, kept in step by ``clinic.console.index``.

    ``pinned`` = red flag and not reviewed: those come first in the list.
    """

    __tablename__ = "conversation_index"
    __table_args__ = (Index("ix_conversation_index_order", "pinned", "started_at", "id"),)

    id = Column(Integer, primary_key=True)  # the paging key's tie-breaker
    sender_id = Column(String(255), nullable=False, unique=True)
    started_at = Column(Float, nullable=False)  # epoch seconds of the first event
    last_at = Column(Float, nullable=False)
    first_message = Column(Text)
    turns = Column(Integer, nullable=False, default=0)  # user messages
    red_flag = Column(Boolean, nullable=False, default=False)
    booking = Column(Boolean, nullable=False, default=False)  # booking_reference slot set
    low_confidence = Column(Boolean, nullable=False, default=False)
    reviewed = Column(Boolean, nullable=False, default=False)
    pinned = Column(Boolean, nullable=False, default=False)
    search_text = Column(Text, nullable=False, default="")  # user messages, lower case
    last_user_event = Column(Integer)  # events.id of the latest user message (for a fallback)


class ConversationIntent(Base):
    __tablename__ = "conversation_intents"

    conversation_id = Column(String(255), primary_key=True)
    intent = Column(String(100), primary_key=True, index=True)


class InboxMessage(Base):
    """A user message under 0.5 confidence or answered by the fallback."""

    __tablename__ = "inbox_messages"

    event_id = Column(Integer, primary_key=True)  # events.id in the tracker store
    conversation_id = Column(String(255), nullable=False, index=True)
    at = Column(Float, nullable=False, index=True)
    text = Column(Text, nullable=False)
    intent = Column(String(100))
    confidence = Column(Float)
    best_guess = Column(String(100))  # the top intent that is not nlu_fallback
    fallback = Column(Boolean, nullable=False, default=False)


class IndexState(Base):
    """How far the conversation index has read the tracker store's events."""

    __tablename__ = "conversation_index_state"

    id = Column(Integer, primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)


# --- staff alerts ------------------------------------------------------------------
ALERT_KINDS = ("booking", "callback", "red_flag")
ALERT_STATUSES = ("pending", "sent", "skipped")


class StaffAlert(Base):
    """The outbox of staff alerts (``clinic.alerts``): one row per booking request,
    call-back request or red-flag conversation, written in the transaction that records
    it, sent by the web app's alert sender. It holds no personal data: the kind, the
    booking reference or conversation id, and the console path."""

    __tablename__ = "staff_alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('booking', 'callback', 'red_flag')", name="kind"),
        CheckConstraint("status IN ('pending', 'sent', 'skipped')", name="status"),
        UniqueConstraint("kind", "reference", name="uq_staff_alerts_kind_reference"),
        Index("ix_staff_alerts_due", "status", "next_attempt_at"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    reference = Column(String(255), nullable=False)  # booking reference or Rasa sender id
    console_path = Column(String(600), nullable=False)  # /staff/... of the item
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)  # UTC
    status = Column(String(16), nullable=False, default="pending", server_default="pending")
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    # when the sender may try next; also its claim on the row while it sends (a lease)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    sent_at = Column(DateTime(timezone=True))
    last_error = Column(String(300))  # exception class and SMTP reply code: no message text
