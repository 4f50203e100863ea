"""Saving booking requests and counting the requests per start time.

Every function takes a session factory (``engine.make_session_factory``) and
turns database failures into ``BookingStoreError``, so the chat layer has one
error to answer ("we could not save your request, please call us").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Dict, Literal, Tuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from clinic.alerts.outbox import add_alert, booking_path

from .models import ACTIVE_STATUSES, Booking

SessionFactory = Callable[[], Session]

# Crockford's base-32 digits without 0/O, 1/I/L and U: nothing to misread on a phone call.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6  # 30**6 = 729 million codes
REFERENCE_ATTEMPTS = 5


class BookingStoreError(RuntimeError):
    """The request could not be saved or read; nothing was written."""


@dataclass(frozen=True)
class BookingRequest:
    """What the booking or call-back form collected, already checked and normalised."""

    kind: Literal["booking", "callback"]
    patient_name: str
    phone: str  # E.164
    conversation_id: str | None = None
    email: str | None = None
    preferred_start: datetime | None = None  # aware, in the clinic timezone; bookings only
    callback_time: str | None = None
    concern: str | None = None
    new_patient: bool | None = None
    pregnant: bool | None = None
    blood_thinners: bool | None = None
    needle_fear: bool | None = None


def new_reference() -> str:
    """A short code for the patient to quote, such as ``RC-7K4M2Q``."""
    return "RC-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def iso_start(start: datetime) -> str:
    """The stored form of a start: ISO 8601 to the second, with its offset.

    Pass starts in the clinic timezone (as ``clinic.booking.when`` returns them):
    the stored text, and so the per-start counts, keep the offset they are given.
    """
    if start.tzinfo is None:
        raise ValueError("a start time must be timezone-aware")
    return start.isoformat(timespec="seconds")


def _row(request: BookingRequest, reference: str, idempotency_key: str) -> Booking:
    if request.kind == "booking" and request.preferred_start is None:
        raise ValueError("a booking request needs a preferred start")
    start = request.preferred_start
    return Booking(
        reference=reference,
        kind=request.kind,
        patient_name=request.patient_name,
        phone=request.phone,
        email=request.email,
        preferred_start=iso_start(start) if start else None,
        callback_time=request.callback_time,
        concern=request.concern,
        new_patient=request.new_patient,
        pregnant=request.pregnant,
        blood_thinners=request.blood_thinners,
        needle_fear=request.needle_fear,
        conversation_id=request.conversation_id,
        idempotency_key=idempotency_key,
    )


def _reference_for_key(session: Session, idempotency_key: str) -> str | None:
    query = select(Booking.reference).where(Booking.idempotency_key == idempotency_key)
    return session.execute(query).scalar_one_or_none()


def save_request(
    session_factory: SessionFactory, request: BookingRequest, idempotency_key: str
) -> Tuple[str, bool]:
    """Stores ``request`` once per ``idempotency_key``: ``(reference, created)``.

    The same key again returns the first request's reference with
    ``created=False`` and writes nothing, even when the data differ. One
    transaction per attempt, with the request's staff alert (``clinic.alerts``): a
    failure leaves no row. A reference already taken is drawn again, up to
    ``REFERENCE_ATTEMPTS`` times.
    """
    if not idempotency_key:
        raise ValueError("an idempotency key is required")
    try:
        for _ in range(REFERENCE_ATTEMPTS):
            with session_factory() as session:
                existing = _reference_for_key(session, idempotency_key)
                if existing is not None:
                    return existing, False
                reference = new_reference()
                row = _row(request, reference, idempotency_key)
                session.add(row)
                try:
                    session.flush()  # the row's id, for the alert's console link
                    # the staff alert, in the same transaction: both are saved or neither
                    add_alert(session, request.kind, reference, booking_path(row.id, reference))
                    session.commit()
                except IntegrityError as exc:
                    session.rollback()
                    existing = _reference_for_key(session, idempotency_key)
                    if existing is not None:  # saved meanwhile by a concurrent retry
                        return existing, False
                    taken = select(Booking.id).where(Booking.reference == reference)
                    if session.execute(taken).first() is None:
                        raise BookingStoreError(f"the booking request was refused: {exc}") from exc
                    continue
                return reference, True
    except SQLAlchemyError as exc:
        raise BookingStoreError(f"the booking request could not be saved: {exc}") from exc
    raise BookingStoreError(f"no free reference after {REFERENCE_ATTEMPTS} attempts")


def count_requests_at(session_factory: SessionFactory, start: datetime) -> int:
    """Booking requests still requested or confirmed at exactly ``start``."""
    query = (
        select(func.count(Booking.id))
        .where(Booking.kind == "booking")
        .where(Booking.preferred_start == iso_start(start))
        .where(Booking.status.in_(ACTIVE_STATUSES))
    )
    try:
        with session_factory() as session:
            return int(session.execute(query).scalar_one())
    except SQLAlchemyError as exc:
        raise BookingStoreError(f"the booking requests could not be read: {exc}") from exc


def taken_counts(
    session_factory: SessionFactory, first_day: date, last_day: date
) -> Dict[datetime, int]:
    """Active booking requests per start from ``first_day`` to ``last_day`` (clinic dates).

    The result is the ``taken_counts`` that ``clinic.booking.when.check_slot`` and
    ``nearest_open_slots`` take. Stored starts begin with their clinic-local date,
    so the range compares as text.
    """
    query = (
        select(Booking.preferred_start, func.count(Booking.id))
        .where(Booking.kind == "booking")
        .where(Booking.status.in_(ACTIVE_STATUSES))
        .where(Booking.preferred_start >= first_day.isoformat())
        .where(Booking.preferred_start < (last_day + timedelta(days=1)).isoformat())
        .group_by(Booking.preferred_start)
    )
    try:
        with session_factory() as session:
            rows = session.execute(query).all()
    except SQLAlchemyError as exc:
        raise BookingStoreError(f"the booking requests could not be read: {exc}") from exc
    return {datetime.fromisoformat(start): count for start, count in rows}
