"""Retention: conversations and booking requests older than ``retention_days`` are deleted.

A conversation is deleted whole (every ``events`` row of its sender) once its newest
event is older than the cut-off; the console's own rows about it (index, inbox,
tags, notes, reviews) go with it. Booking requests go by ``created_at``, and so do staff
alerts (an alert older than the cut-off points at something deleted). Run by
``python -m clinic purge`` and once a day by the web app.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, List

from sqlalchemy import bindparam, create_engine, delete, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clinic.db.models import (
    Booking,
    ConversationIndex,
    ConversationIntent,
    ConversationReview,
    ConversationTag,
    InboxMessage,
    StaffAlert,
)

SessionFactory = Callable[[], Session]
CHUNK = 500

_OLD_SENDERS = text(
    "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"
)
# Deleted only if still old when the statement runs: a conversation that went on meanwhile stays.
_DELETE_EVENTS = text(
    "DELETE FROM events WHERE sender_id IN :senders AND NOT EXISTS"
    " (SELECT 1 FROM events AS newer WHERE newer.sender_id = events.sender_id"
    " AND newer.timestamp >= :cutoff)"
).bindparams(bindparam("senders", expanding=True))


@dataclass(frozen=True)
class PurgeResult:
    conversations: int
    events: int
    bookings: int
    cutoff: datetime


def tracker_engine(url: str, project_root: Path) -> Engine:
    """A writable engine on the tracker store (only retention writes there)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        if not path.is_absolute():
            parsed = parsed.set(database=str(project_root / path))
    return create_engine(parsed, future=True)


def _chunks(items: List[str], size: int = CHUNK) -> List[List[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def purge(
    sessions: SessionFactory,
    tracker: Engine,
    retention_days: int,
    now: float | None = None,
) -> PurgeResult:
    """Deletes what is older than ``retention_days`` before ``now`` (epoch seconds)."""
    now = time.time() if now is None else now
    cutoff_ts = now - retention_days * 86_400
    cutoff = datetime.fromtimestamp(cutoff_ts, tz=timezone.utc)
    conversations = events = 0
    try:
        with tracker.connect() as connection:
            senders = [row[0] for row in connection.execute(_OLD_SENDERS, {"cutoff": cutoff_ts})]
    except OperationalError as exc:
        if "no such table" not in str(exc).lower():
            raise
        senders = []
    for chunk in _chunks(senders):
        with tracker.begin() as connection:
            result = connection.execute(_DELETE_EVENTS, {"senders": chunk, "cutoff": cutoff_ts})
            events += result.rowcount or 0
        with sessions() as session:
            for model, column in (
                (ConversationIndex, ConversationIndex.sender_id),
                (ConversationIntent, ConversationIntent.conversation_id),
                (InboxMessage, InboxMessage.conversation_id),
                (ConversationTag, ConversationTag.conversation_id),
                (ConversationReview, ConversationReview.conversation_id),
            ):
                session.execute(delete(model).where(column.in_(chunk)))
            session.commit()
        conversations += len(chunk)
    with sessions() as session:
        old = select(Booking.id).where(Booking.created_at < cutoff)
        ids = list(session.execute(old).scalars())
        for chunk_ids in [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]:
            session.execute(delete(Booking).where(Booking.id.in_(chunk_ids)))
        session.execute(delete(StaffAlert).where(StaffAlert.created_at < cutoff))
        session.commit()
    return PurgeResult(conversations, events, len(ids), cutoff)


def cutoff_for(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
