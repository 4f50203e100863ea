"""Retention: conversations and booking requests older than ``retention_days`` are deleted.

A conversation is deleted whole (every ``events`` row of its sender) once its newest
event is older than the cut-off; the console's own rows about it (index, inbox,
tags, notes, reviews) go with it. Booking requests go by ``created_at``, and so do staff
alerts (an alert older than the cut-off points at something deleted). Run by
``python -m clinic purge`` and once a day by the web app; ``preview`` (``purge --dry-run``)
counts the conversations and requests it would delete and deletes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, List, Tuple, TypeVar

from sqlalchemy import bindparam, create_engine, delete, func, select, text
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
T = TypeVar("T")
# The console's rows about a conversation, and the column that names it: they go with it.
CONVERSATION_ROWS = (
    (ConversationIndex, ConversationIndex.sender_id),
    (ConversationIntent, ConversationIntent.conversation_id),
    (InboxMessage, InboxMessage.conversation_id),
    (ConversationTag, ConversationTag.conversation_id),
    (ConversationReview, ConversationReview.conversation_id),
)

_OLD_SENDERS = text(
    "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"
)
_OLD_COUNTS = text(
    "SELECT COUNT(DISTINCT sender_id), COUNT(*) FROM events WHERE sender_id IN"
    " (SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff)"
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


def _chunks(items: List[T], size: int = CHUNK) -> List[List[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _cutoff(retention_days: int, now: float | None) -> Tuple[float, datetime]:
    now = time.time() if now is None else now
    cutoff_ts = now - retention_days * 86_400
    return cutoff_ts, datetime.fromtimestamp(cutoff_ts, tz=timezone.utc)


def _old_rows(tracker: Engine, query: Any, cutoff_ts: float) -> List[Any]:
    """``query``'s rows; none before Rasa's first conversation (no ``events`` table yet)."""
    try:
        with tracker.connect() as connection:
            return list(connection.execute(query, {"cutoff": cutoff_ts}))
    except OperationalError as exc:
        if "no such table" not in str(exc).lower():
            raise
        return []


def preview(
    sessions: SessionFactory,
    tracker: Engine,
    retention_days: int,
    now: float | None = None,
) -> PurgeResult:
    """What ``purge`` would delete with the same arguments; nothing is deleted."""
    cutoff_ts, cutoff = _cutoff(retention_days, now)
    counts = _old_rows(tracker, _OLD_COUNTS, cutoff_ts)
    conversations, events = counts[0] if counts else (0, 0)
    with sessions() as session:
        old = select(func.count(Booking.id)).where(Booking.created_at < cutoff)
        bookings = int(session.execute(old).scalar_one())
    return PurgeResult(int(conversations), int(events), bookings, cutoff)


def purge(
    sessions: SessionFactory,
    tracker: Engine,
    retention_days: int,
    now: float | None = None,
) -> PurgeResult:
    """Deletes what is older than ``retention_days`` before ``now`` (epoch seconds)."""
    cutoff_ts, cutoff = _cutoff(retention_days, now)
    conversations = events = 0
    senders = [row[0] for row in _old_rows(tracker, _OLD_SENDERS, cutoff_ts)]
    for chunk in _chunks(senders):
        with tracker.begin() as connection:
            result = connection.execute(_DELETE_EVENTS, {"senders": chunk, "cutoff": cutoff_ts})
            events += result.rowcount or 0
        with sessions() as session:
            for model, column in CONVERSATION_ROWS:
                session.execute(delete(model).where(column.in_(chunk)))
            session.commit()
        conversations += len(chunk)
    with sessions() as session:
        old = select(Booking.id).where(Booking.created_at < cutoff)
        ids = list(session.execute(old).scalars())
        for chunk_ids in _chunks(ids):
            session.execute(delete(Booking).where(Booking.id.in_(chunk_ids)))
        session.execute(delete(StaffAlert).where(StaffAlert.created_at < cutoff))
        session.commit()
    return PurgeResult(conversations, events, len(ids), cutoff)


def cutoff_for(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
