"""What the console's pages show: conversation lists (filters, keyset paging),
transcripts, reviews, tags and notes, booking requests and the audit log.

Lists page by key, never by OFFSET: the cursor is the last row's
``(pinned, started_at, id)`` and the next page starts strictly after it, which an
index on those columns answers in the same time on page 1 and on page 5,000.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Tuple, TypedDict

from sqlalchemy import and_, delete, exists, func, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from clinic.db.models import (
    STATUSES,
    AuditEntry,
    Booking,
    ConversationIndex,
    ConversationIntent,
    ConversationReview,
    ConversationTag,
    InboxMessage,
    utc_now,
)

from .index import FALLBACK_ACTION, event_data, has_red_flag, is_low_confidence, parse_user

SessionFactory = Callable[[], Session]
PAGE_SIZE = 50
TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
NOTE_CHARS = 4000


@dataclass(frozen=True)
class ConversationFilters:
    date_from: float | None = None  # epoch seconds, inclusive
    date_to: float | None = None  # exclusive
    intent: str = ""
    red_flag: bool = False
    booking: bool = False
    low_confidence: bool = False
    reviewed: str = ""  # "", "yes", "no"
    tag: str = ""
    search: str = ""


@dataclass
class ConversationRow:
    sender_id: str
    started_at: float
    last_at: float
    first_message: str
    turns: int
    red_flag: bool
    booking: bool
    low_confidence: bool
    reviewed: bool
    pinned: bool
    tags: List[str] = field(default_factory=list)


@dataclass
class Page:
    rows: List[ConversationRow]
    next_cursor: str | None


def encode_cursor(row: ConversationRow, row_id: int) -> str:
    raw = json.dumps([int(row.pinned), row.started_at, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Tuple[int, float, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        pinned, started, row_id = json.loads(raw)
        return int(pinned), float(started), int(row_id)
    except (ValueError, TypeError):
        return None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(filters: ConversationFilters) -> List[Any]:
    c = ConversationIndex
    clauses: List[Any] = []
    if filters.date_from is not None:
        clauses.append(c.started_at >= filters.date_from)
    if filters.date_to is not None:
        clauses.append(c.started_at < filters.date_to)
    if filters.intent:
        clauses.append(
            exists().where(
                ConversationIntent.conversation_id == c.sender_id,
                ConversationIntent.intent == filters.intent,
            )
        )
    if filters.red_flag:
        clauses.append(c.red_flag.is_(True))
    if filters.booking:
        clauses.append(or_(c.booking.is_(True), c.sender_id.in_(select(Booking.conversation_id))))
    if filters.low_confidence:
        clauses.append(c.low_confidence.is_(True))
    if filters.reviewed == "yes":
        clauses.append(c.reviewed.is_(True))
    elif filters.reviewed == "no":
        clauses.append(c.reviewed.is_(False))
    if filters.tag:
        clauses.append(
            exists().where(
                ConversationTag.conversation_id == c.sender_id, ConversationTag.tag == filters.tag
            )
        )
    if filters.search.strip():
        pattern = f"%{_escape_like(filters.search.strip().lower())}%"
        clauses.append(c.search_text.like(pattern, escape="\\"))
    return clauses


def list_conversations(
    sessions: SessionFactory,
    filters: ConversationFilters,
    cursor: str | None = None,
    page_size: int = PAGE_SIZE,
) -> Page:
    """Red-flag conversations not yet reviewed first, then newest first; keyset paging."""
    c = ConversationIndex
    query = select(c).where(*_where(filters))
    key = decode_cursor(cursor) if cursor else None
    if key is not None:
        pinned, started, row_id = key
        later = or_(c.started_at < started, and_(c.started_at == started, c.id < row_id))
        if pinned:
            query = query.where(or_(c.pinned.is_(False), and_(c.pinned.is_(True), later)))
        else:
            query = query.where(c.pinned.is_(False), later)
    query = query.order_by(c.pinned.desc(), c.started_at.desc(), c.id.desc()).limit(page_size + 1)
    with sessions() as session:
        items = list(session.execute(query).scalars())
        more = len(items) > page_size
        items = items[:page_size]
        senders = [item.sender_id for item in items]
        tags: Dict[str, List[str]] = {}
        booked: set[str] = set()
        if senders:
            for conversation_id, tag in session.execute(
                select(ConversationTag.conversation_id, ConversationTag.tag)
                .where(ConversationTag.conversation_id.in_(senders))
                .order_by(ConversationTag.tag)
            ):
                tags.setdefault(conversation_id, []).append(tag)
            booked = set(
                session.execute(
                    select(Booking.conversation_id).where(Booking.conversation_id.in_(senders))
                ).scalars()
            )
    rows = [
        ConversationRow(
            sender_id=item.sender_id,
            started_at=item.started_at,
            last_at=item.last_at,
            first_message=item.first_message or "",
            turns=item.turns,
            red_flag=bool(item.red_flag),
            booking=bool(item.booking) or item.sender_id in booked,
            low_confidence=bool(item.low_confidence),
            reviewed=bool(item.reviewed),
            pinned=bool(item.pinned),
            tags=tags.get(item.sender_id, []),
        )
        for item in items
    ]
    next_cursor = encode_cursor(rows[-1], items[-1].id) if more and rows else None
    return Page(rows=rows, next_cursor=next_cursor)


def known_intents(sessions: SessionFactory) -> List[str]:
    with sessions() as session:
        query = select(ConversationIntent.intent).distinct().order_by(ConversationIntent.intent)
        return list(session.execute(query).scalars())


def known_tags(sessions: SessionFactory) -> List[str]:
    with sessions() as session:
        query = select(ConversationTag.tag).distinct().order_by(ConversationTag.tag)
        return list(session.execute(query).scalars())


# --- one conversation ---------------------------------------------------------------------


class Turn(TypedDict):
    kind: str  # "user", "bot", "slot", "fallback", "session"
    at: float
    text: str
    intent: str | None
    confidence: float | None
    entities: List[Dict[str, Any]]
    low_confidence: bool
    red_flag: bool
    slot: str | None
    value: Any


_CONVERSATION = text(
    "SELECT id, type_name, timestamp, action_name, data FROM events"
    " WHERE sender_id = :sender AND type_name IN ('user', 'bot', 'slot', 'action',"
    " 'session_started', 'active_loop') ORDER BY id"
)


def read_events(tracker: Engine, sender: str) -> List[Tuple[int, str, float, str | None, Dict]]:
    with tracker.connect() as connection:
        rows = connection.execute(_CONVERSATION, {"sender": sender}).all()
    return [(row[0], row[1], float(row[2] or 0), row[3], event_data(row[4])) for row in rows]


# the clinic facts action_session_start puts into slots: the same in every conversation
CLINIC_SLOTS = {
    "clinic_name",
    "clinic_phone",
    "clinic_email",
    "clinic_address",
    "clinic_hours",
    "clinic_prices",
    "clinic_insurance",
    "clinic_parking",
    "appointment_minutes",
    "booking_horizon_days",
    "emergency_number",
    "crisis_line",
}


def transcript(events: List[Tuple[int, str, float, str | None, Dict]]) -> List[Turn]:
    """User and bot turns with their time; per user message the intent, confidence and
    entities; slot changes (the clinic facts of every session left out); fallbacks."""
    turns: List[Turn] = []

    def turn(kind: str, at: float, **values: Any) -> Turn:
        base: Turn = {
            "kind": kind,
            "at": at,
            "text": "",
            "intent": None,
            "confidence": None,
            "entities": [],
            "low_confidence": False,
            "red_flag": False,
            "slot": None,
            "value": None,
        }
        base.update(values)  # type: ignore[typeddict-item]
        return base

    for _id, type_name, at, action_name, data in events:
        if type_name == "user":
            parsed = parse_user(data)
            turns.append(
                turn(
                    "user",
                    at,
                    text=parsed["text"],
                    intent=parsed["intent"],
                    confidence=parsed["confidence"],
                    entities=[
                        {"entity": e.get("entity"), "value": e.get("value")}
                        for e in parsed["entities"]
                    ],
                    low_confidence=is_low_confidence(parsed),
                    red_flag=has_red_flag(parsed),
                )
            )
        elif type_name == "bot" and data.get("text"):
            turns.append(turn("bot", at, text=str(data["text"])))
        elif type_name == "slot" and action_name not in CLINIC_SLOTS:
            turns.append(turn("slot", at, slot=action_name, value=data.get("value")))
        elif type_name == "action" and action_name == FALLBACK_ACTION:
            turns.append(turn("fallback", at, text=FALLBACK_ACTION))
        elif type_name == "session_started":
            turns.append(turn("session", at))
    return turns


# --- reviews, notes, tags ---------------------------------------------------------------


@dataclass
class ReviewState:
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    note: str = ""
    note_by: str | None = None
    tags: List[str] = field(default_factory=list)


def review_state(sessions: SessionFactory, sender: str) -> ReviewState:
    with sessions() as session:
        review = session.get(ConversationReview, sender)
        tags = list(
            session.execute(
                select(ConversationTag.tag)
                .where(ConversationTag.conversation_id == sender)
                .order_by(ConversationTag.tag)
            ).scalars()
        )
    if review is None:
        return ReviewState(tags=tags)
    return ReviewState(
        reviewed_at=review.reviewed_at,
        reviewed_by=review.reviewed_by,
        note=review.note or "",
        note_by=review.note_by,
        tags=tags,
    )


def _review_row(session: Session, sender: str) -> ConversationReview:
    review = session.get(ConversationReview, sender)
    if review is None:
        review = ConversationReview(conversation_id=sender)
        session.add(review)
    review.updated_at = utc_now()
    return review


def set_reviewed(sessions: SessionFactory, sender: str, by: str, reviewed: bool) -> None:
    with sessions() as session:
        review = _review_row(session, sender)
        review.reviewed_at = utc_now() if reviewed else None
        review.reviewed_by = by if reviewed else None
        c = ConversationIndex
        session.execute(
            update(c)
            .where(c.sender_id == sender)
            .values(reviewed=reviewed, pinned=False if reviewed else c.red_flag)
        )
        session.commit()


def set_note(sessions: SessionFactory, sender: str, by: str, note: str) -> None:
    with sessions() as session:
        review = _review_row(session, sender)
        review.note = note.strip()[:NOTE_CHARS] or None
        review.note_by = by if review.note else None
        session.commit()


def normal_tag(tag: str) -> str | None:
    tag = " ".join(tag.strip().lower().split())
    return tag if TAG.match(tag) else None


def add_tag(sessions: SessionFactory, sender: str, tag: str) -> None:
    with sessions() as session:
        if session.get(ConversationTag, (sender, tag)) is None:
            session.add(ConversationTag(conversation_id=sender, tag=tag))
            session.commit()


def remove_tag(sessions: SessionFactory, sender: str, tag: str) -> None:
    with sessions() as session:
        session.execute(
            delete(ConversationTag).where(
                ConversationTag.conversation_id == sender, ConversationTag.tag == tag
            )
        )
        session.commit()


# --- inbox -----------------------------------------------------------------------------


def inbox(
    sessions: SessionFactory, before: Tuple[float, int] | None = None, page_size: int = 100
) -> Tuple[List[InboxMessage], Tuple[float, int] | None]:
    """Low-confidence and fallback user messages, newest first, keyset-paged by (at, id)."""
    m = InboxMessage
    query = select(m)
    if before is not None:
        query = query.where(or_(m.at < before[0], and_(m.at == before[0], m.event_id < before[1])))
    query = query.order_by(m.at.desc(), m.event_id.desc()).limit(page_size + 1)
    with sessions() as session:
        items = list(session.execute(query).scalars())
    more = len(items) > page_size
    items = items[:page_size]
    return items, ((items[-1].at, items[-1].event_id) if more else None)


# --- bookings and the audit log ------------------------------------------------------------


def list_bookings(sessions: SessionFactory, status: str = "", limit: int = 500) -> List[Booking]:
    query = select(Booking)
    if status in STATUSES:
        query = query.where(Booking.status == status)
    query = query.order_by(Booking.created_at.desc(), Booking.id.desc()).limit(limit)
    with sessions() as session:
        return list(session.execute(query).scalars())


def get_booking(sessions: SessionFactory, booking_id: int) -> Booking | None:
    with sessions() as session:
        return session.get(Booking, booking_id)


def set_booking_status(sessions: SessionFactory, booking_id: int, status: str) -> str | None:
    """The booking's reference after the change, or None when there is no such booking."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        if booking is None:
            return None
        booking.status = status
        session.commit()
        return booking.reference


def audit(
    sessions: SessionFactory, user: str, action: str, target: str = "", detail: str = ""
) -> None:
    with sessions() as session:
        session.add(
            AuditEntry(user_name=user, action=action, target=target[:300], detail=detail or None)
        )
        session.commit()


def audit_entries(
    sessions: SessionFactory, before_id: int | None = None, limit: int = 100
) -> List[AuditEntry]:
    query = select(AuditEntry)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    with sessions() as session:
        return list(session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).scalars())


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp()


def count_conversations(sessions: SessionFactory) -> int:
    with sessions() as session:
        return int(session.execute(select(func.count(ConversationIndex.id))).scalar_one())
