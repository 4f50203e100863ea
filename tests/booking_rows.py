"""Seeded booking requests for the bookings list's tests: 320 rows over about two months,
every status and kind, names with non-ASCII letters, and rows sharing a moment so the id
must break the tie."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy.orm import Session

from clinic.db.models import Booking

ROWS = 320
START = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)


def seed_row(i: int) -> Booking:
    kind = "callback" if i % 4 == 0 else "booking"
    return Booking(
        reference=f"RC-{i:06d}",
        kind=kind,
        patient_name=["Nora Quill", "Ada Lovelace", "Ben Okri", "Zoë Ærø"][i % 4] + f" {i}",
        phone=f"+1202555{i:04d}",
        email=f"Patient{i}@Example.org" if i % 3 else None,
        preferred_start=None if kind == "callback" else "2026-12-10T10:00:00-05:00",
        concern="lower back pain",
        status=("requested", "confirmed", "cancelled")[i % 3],
        idempotency_key=f"key-{i}",
        # Every 10th pair shares a moment: the id must break the tie.
        created_at=START + timedelta(hours=(i // 2) * 5 if i % 10 < 2 else i * 5),
    )


def seed(sessions: Callable[[], Session], rows: int = ROWS) -> None:
    with sessions() as session:
        session.add_all(seed_row(i) for i in range(rows))
        session.commit()
