"""The ``staff_alerts`` outbox: rows added in the caller's transaction, claimed and marked
by the sender.

A row is claimed by moving its ``next_attempt_at`` past the lease with a conditional
UPDATE (one statement, so two senders on one database cannot both win it), and marked
``sent`` only after the SMTP server accepted the message.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable, List
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clinic.db.models import StaffAlert, utc_now

SessionFactory = Callable[[], Session]
LEASE = timedelta(minutes=5)  # a claimed row is not tried by another sender for this long
FIRST_RETRY_S = 30.0
MAX_RETRY_S = 30 * 60.0


def booking_path(booking_id: int, reference: str) -> str:
    """The console's address of a booking request: the bookings list searched for its
    reference, at its row (the list shows 50 a page, newest first)."""
    return f"/staff/bookings?q={quote(reference, safe='')}#booking-{booking_id}"


def conversation_path(sender_id: str) -> str:
    return f"/staff/conversations/{quote(sender_id, safe='')}"


def add_alert(
    session: Session,
    kind: str,
    reference: str,
    console_path: str,
    at: datetime | None = None,
) -> bool:
    """Adds the alert to ``session`` (committed with the caller's work) unless one for this
    ``kind`` and ``reference`` exists; True when added."""
    exists = select(StaffAlert.id).where(StaffAlert.kind == kind, StaffAlert.reference == reference)
    if session.execute(exists).first() is not None:
        return False
    moment = at or utc_now()
    session.add(
        StaffAlert(
            kind=kind,
            reference=reference,
            console_path=console_path,
            created_at=moment,
            next_attempt_at=utc_now(),
        )
    )
    return True


def backoff_s(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: 30 s, 1, 2, 4 ... min, at most 30."""
    return min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S)


def due_ids(sessions: SessionFactory, now: datetime, limit: int) -> List[int]:
    query = (
        select(StaffAlert.id)
        .where(StaffAlert.status == "pending", StaffAlert.next_attempt_at <= now)
        .order_by(StaffAlert.id)
        .limit(limit)
    )
    with sessions() as session:
        return list(session.execute(query).scalars())


def claim(sessions: SessionFactory, alert_id: int, now: datetime) -> StaffAlert | None:
    """The row, when this sender won it: still pending and due, now leased to us."""
    with sessions() as session:
        result = session.execute(
            update(StaffAlert)
            .where(
                StaffAlert.id == alert_id,
                StaffAlert.status == "pending",
                StaffAlert.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE)
        )
        session.commit()
        if result.rowcount != 1:
            return None
        return session.get(StaffAlert, alert_id)


def mark_sent(sessions: SessionFactory, alert_id: int, now: datetime) -> None:
    with sessions() as session:
        session.execute(
            update(StaffAlert)
            .where(StaffAlert.id == alert_id, StaffAlert.status == "pending")
            .values(status="sent", sent_at=now, attempts=StaffAlert.attempts + 1, last_error=None)
        )
        session.commit()


def mark_failed(sessions: SessionFactory, alert: StaffAlert, now: datetime, error: str) -> None:
    attempts = (alert.attempts or 0) + 1
    retry_at = now + timedelta(seconds=backoff_s(attempts))
    with sessions() as session:
        session.execute(
            update(StaffAlert)
            .where(StaffAlert.id == alert.id, StaffAlert.status == "pending")
            .values(attempts=attempts, next_attempt_at=retry_at, last_error=error[:300])
        )
        session.commit()


def skip_pending(sessions: SessionFactory) -> int:
    """Marks every pending alert ``skipped`` (no one to tell); returns how many."""
    with sessions() as session:
        result = session.execute(
            update(StaffAlert).where(StaffAlert.status == "pending").values(status="skipped")
        )
        session.commit()
        return int(result.rowcount or 0)


def pending_count(sessions: SessionFactory) -> int:
    query = select(func.count(StaffAlert.id)).where(StaffAlert.status == "pending")
    with sessions() as session:
        return int(session.execute(query).scalar_one())


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back the stored UTC times without their zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
