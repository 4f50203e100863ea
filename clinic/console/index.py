"""The conversation index: one summary row per conversation of Rasa's tracker store.

Rasa's ``events`` table is read, never written (a read-only connection); the summaries
live in the app database (``conversation_index``, ``conversation_intents``,
``inbox_messages``) and are brought up to date incrementally: each ``sync()`` reads
only the events after the last one it saw (``events.id``), so the list stays fast at
100,000 conversations. When the events table shrank below that mark (emptied and
started again), the index is rebuilt from the start.

Ids are handed out when a row is inserted, not when it is committed: with several Rasa
processes on PostgreSQL, ids 100-105 may become visible after 106-110. So the ids missing
among the newest ones read are looked for again at each sync (``GAP_WAIT_S`` long; a
missing id after that was rolled back or deleted), and applied when they turn up.

Badges, from the events:
- red flag: a user message whose parse data has a ``red_flag`` entity;
- booking: the ``booking_reference`` slot was set (the list also looks for a
  ``bookings`` row with the conversation's id);
- low confidence: intent ``nlu_fallback``, an ``action_default_fallback``, or an
  intent confidence under ``LOW_CONFIDENCE``.

A conversation that gets its red flag here also gets its staff alert (``clinic.alerts``),
in the same transaction: one per conversation, and only for a red-flag message of the
last ``RED_FLAG_ALERT_MAX_AGE_S`` (building the index from scratch alerts no one about
old conversations).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Tuple, TypedDict

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clinic.alerts.outbox import add_alert, conversation_path
from clinic.db.models import (
    ConversationIndex,
    ConversationIntent,
    ConversationReview,
    InboxMessage,
    IndexState,
)

SessionFactory = Callable[[], Session]
LOW_CONFIDENCE = 0.5
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_default_fallback"
BATCH = 5000
SEARCH_CHARS = 4000
GAP_WINDOW = 1000  # ids below the newest read one that may still be in an open transaction
GAP_WAIT_S = 60.0
RED_FLAG_ALERT_MAX_AGE_S = 24 * 3600.0

_EVENTS_AFTER = text(
    "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
    " WHERE id > :after AND type_name IN ('user', 'action', 'slot', 'bot')"
    " ORDER BY id LIMIT :limit"
)
_MAX_ID = text("SELECT MAX(id) FROM events")
_IDS_BETWEEN = text("SELECT id FROM events WHERE id > :low AND id <= :high")
_EVENTS_WITH_IDS = text(
    "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
    " WHERE id IN :ids ORDER BY id"
).bindparams(bindparam("ids", expanding=True))
INDEXED_TYPES = ("user", "action", "slot", "bot")  # the types _EVENTS_AFTER reads
_USER_EVENT = text("SELECT timestamp, data FROM events WHERE id = :id")


class ParsedUser(TypedDict):
    text: str
    intent: str | None
    confidence: float | None
    best_guess: str | None
    entities: List[Dict[str, Any]]


def event_data(raw: Any) -> Dict[str, Any]:
    try:
        data = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_user(data: Dict[str, Any]) -> ParsedUser:
    """Text, predicted intent and confidence, best non-fallback guess and entities."""
    parse = data.get("parse_data") if isinstance(data.get("parse_data"), dict) else {}
    intent = parse.get("intent") if isinstance(parse.get("intent"), dict) else {}
    confidence = intent.get("confidence")
    ranking = parse.get("intent_ranking") if isinstance(parse.get("intent_ranking"), list) else []
    best = next(
        (
            item.get("name")
            for item in ranking
            if isinstance(item, dict) and item.get("name") != FALLBACK_INTENT
        ),
        None,
    )
    name = intent.get("name")
    entities = parse.get("entities") if isinstance(parse.get("entities"), list) else []
    return {
        "text": str(data.get("text") or ""),
        "intent": name,
        "confidence": float(confidence) if isinstance(confidence, (int, float)) else None,
        "best_guess": best or (name if name != FALLBACK_INTENT else None),
        "entities": [e for e in entities if isinstance(e, dict)],
    }


def is_low_confidence(parsed: ParsedUser) -> bool:
    if parsed["intent"] == FALLBACK_INTENT:
        return True
    return parsed["confidence"] is not None and parsed["confidence"] < LOW_CONFIDENCE


def has_red_flag(parsed: ParsedUser) -> bool:
    return any(entity.get("entity") == "red_flag" for entity in parsed["entities"])


class ConversationIndexer:
    """Keeps the index in step with the tracker store; one sync at a time per process."""

    def __init__(self, sessions: SessionFactory, tracker: Engine) -> None:
        self._sessions = sessions
        self._tracker = tracker
        self._lock = threading.Lock()
        self._gaps: Dict[int, float] = {}  # ids not visible yet: when first missed (monotonic)

    @property
    def tracker(self) -> Engine:
        """The read-only engine on the tracker store."""
        return self._tracker

    def sync(self, max_batches: int | None = None) -> int:
        """Reads the new events; returns how many it read."""
        with self._lock:
            total, batches = self._fill_gaps(), 0
            while max_batches is None or batches < max_batches:
                read = self._sync_batch()
                total, batches = total + read, batches + 1
                if read < BATCH:
                    break
            return total

    def _read(self, after: int) -> Tuple[List[tuple], int | None]:
        try:
            with self._tracker.connect() as connection:
                newest = connection.execute(_MAX_ID).scalar()
                rows = connection.execute(_EVENTS_AFTER, {"after": after, "limit": BATCH}).all()
        except OperationalError as exc:
            message = str(exc).lower()
            if "no such table" in message or "unable to open database" in message:
                return [], None
            raise
        return [tuple(row) for row in rows], newest

    def _note_gaps(self, after: int, last: int, newest: int) -> None:
        """Remembers the ids missing among the newest ones up to ``last`` (just read)."""
        low = max(after, last - GAP_WINDOW)
        if last < newest - GAP_WINDOW or last <= low:
            return
        with self._tracker.connect() as connection:
            present = set(connection.execute(_IDS_BETWEEN, {"low": low, "high": last}).scalars())
        now = time.monotonic()
        for event_id in set(range(low + 1, last + 1)) - present:
            self._gaps.setdefault(event_id, now)

    def _fill_gaps(self) -> int:
        """Applies the events that turned up in earlier gaps; forgets gaps too old."""
        if not self._gaps:
            return 0
        with self._tracker.connect() as connection:
            found = [
                tuple(r) for r in connection.execute(_EVENTS_WITH_IDS, {"ids": list(self._gaps)})
            ]
        for row in found:
            del self._gaps[row[0]]
        too_old = time.monotonic() - GAP_WAIT_S
        self._gaps = {i: seen for i, seen in self._gaps.items() if seen > too_old}
        late = [row for row in found if row[2] in INDEXED_TYPES]
        if late:
            self._apply(late, advance=False)
        return len(late)

    def _user_event(self, event_id: int) -> Tuple[float, ParsedUser] | None:
        with self._tracker.connect() as connection:
            row = connection.execute(_USER_EVENT, {"id": event_id}).first()
        return (row[0], parse_user(event_data(row[1]))) if row else None

    def _sync_batch(self) -> int:
        with self._sessions() as session:
            state = session.get(IndexState, 1)
            if state is None:
                state = IndexState(id=1, last_event_id=0)
                session.add(state)
                session.commit()
            after = state.last_event_id
        rows, newest = self._read(after)
        if newest is not None and newest < after:  # the events table was emptied and refilled
            self.reset()
            after = 0
            rows, newest = self._read(after)
        if not rows:
            return 0
        self._apply(rows)
        self._note_gaps(after, rows[-1][0], newest or rows[-1][0])
        return len(rows)

    def reset(self) -> None:
        with self._sessions() as session:
            for model in (ConversationIndex, ConversationIntent, InboxMessage):
                session.execute(delete(model))
            session.execute(update(IndexState).values(last_event_id=0))
            session.commit()
        self._gaps = {}

    def _apply(self, rows: List[tuple], advance: bool = True) -> None:
        """Adds ``rows`` (events in id order) to the index; ``advance``: and moves the mark
        past them (not for late ones, which are below it)."""
        senders = sorted({row[1] for row in rows})
        with self._sessions() as session:
            existing: Dict[str, Dict[str, Any]] = {}
            for chunk in [senders[i : i + 500] for i in range(0, len(senders), 500)]:
                query = select(ConversationIndex).where(ConversationIndex.sender_id.in_(chunk))
                for item in session.execute(query).scalars():
                    existing[item.sender_id] = {
                        c.name: getattr(item, c.name) for c in ConversationIndex.__table__.columns
                    }
            reviewed = set()
            new_senders = [s for s in senders if s not in existing]
            for chunk in [new_senders[i : i + 500] for i in range(0, len(new_senders), 500)]:
                query = select(ConversationReview.conversation_id).where(
                    ConversationReview.conversation_id.in_(chunk),
                    ConversationReview.reviewed_at.is_not(None),
                )
                reviewed.update(session.execute(query).scalars())
            summaries: Dict[str, Dict[str, Any]] = {}
            intents: set[Tuple[str, str]] = set()
            inbox: Dict[int, Dict[str, Any]] = {}
            user_texts: Dict[int, Tuple[float, ParsedUser]] = {}
            newly_flagged: Dict[str, float] = {}  # sender -> time of its first red flag
            for event_id, sender, type_name, ts, _intent, action_name, raw in rows:
                ts = float(ts or 0.0)
                summary = summaries.get(sender)
                if summary is None:
                    summary = existing.get(sender) or {
                        "sender_id": sender,
                        "started_at": ts,
                        "last_at": ts,
                        "first_message": None,
                        "turns": 0,
                        "red_flag": False,
                        "booking": False,
                        "low_confidence": False,
                        "reviewed": sender in reviewed,
                        "pinned": False,
                        "search_text": "",
                        "last_user_event": None,
                    }
                    summaries[sender] = summary
                summary["last_at"] = max(summary["last_at"], ts)
                summary["started_at"] = min(summary["started_at"], ts)
                if type_name == "user":
                    parsed = parse_user(event_data(raw))
                    user_texts[event_id] = (ts, parsed)
                    summary["turns"] += 1
                    summary["last_user_event"] = event_id
                    if parsed["text"]:
                        summary["first_message"] = summary["first_message"] or parsed["text"][:500]
                        if len(summary["search_text"]) < SEARCH_CHARS:
                            joined = f"{summary['search_text']}\n{parsed['text'].lower()}"
                            summary["search_text"] = joined[:SEARCH_CHARS]
                    if parsed["intent"]:
                        intents.add((sender, parsed["intent"][:100]))
                    if has_red_flag(parsed) and not summary["red_flag"]:
                        summary["red_flag"] = True
                        newly_flagged[sender] = ts
                    if is_low_confidence(parsed):
                        summary["low_confidence"] = True
                        inbox[event_id] = _inbox_row(event_id, sender, ts, parsed, False)
                elif type_name == "action" and action_name == FALLBACK_ACTION:
                    summary["low_confidence"] = True
                    user_event = summary.get("last_user_event")
                    if user_event is not None:
                        if user_event in inbox:
                            inbox[user_event]["fallback"] = True
                        else:
                            known = user_texts.get(user_event) or self._user_event(user_event)
                            if known is not None:
                                inbox[user_event] = _inbox_row(
                                    user_event, sender, known[0], known[1], True
                                )
                elif (
                    type_name == "slot"
                    and action_name == "booking_reference"
                    and event_data(raw).get("value")
                ):
                    summary["booking"] = True
            for summary in summaries.values():
                summary["pinned"] = bool(summary["red_flag"] and not summary["reviewed"])
            updates = [s for s in summaries.values() if s.get("id") is not None]
            inserts = [s for s in summaries.values() if s.get("id") is None]
            if inserts:
                session.execute(
                    insert(ConversationIndex),
                    [{k: v for k, v in s.items() if k != "id"} for s in inserts],
                )
            for summary in updates:
                values = {k: v for k, v in summary.items() if k not in ("id", "sender_id")}
                session.execute(
                    update(ConversationIndex)
                    .where(ConversationIndex.id == summary["id"])
                    .values(**values)
                )
            self._add_missing(session, intents, inbox)
            recent = time.time() - RED_FLAG_ALERT_MAX_AGE_S
            for sender, ts in newly_flagged.items():
                if ts >= recent:
                    at = datetime.fromtimestamp(ts, timezone.utc)
                    add_alert(session, "red_flag", sender, conversation_path(sender), at)
            if advance:
                session.execute(update(IndexState).values(last_event_id=rows[-1][0]))
            session.commit()

    @staticmethod
    def _add_missing(
        session: Session, intents: set[Tuple[str, str]], inbox: Dict[int, Dict[str, Any]]
    ) -> None:
        if intents:
            senders = sorted({sender for sender, _ in intents})
            known = set()
            for chunk in [senders[i : i + 500] for i in range(0, len(senders), 500)]:
                query = select(ConversationIntent.conversation_id, ConversationIntent.intent).where(
                    ConversationIntent.conversation_id.in_(chunk)
                )
                known.update(tuple(row) for row in session.execute(query))
            fresh = [{"conversation_id": s, "intent": i} for s, i in intents - known]
            if fresh:
                session.execute(insert(ConversationIntent), fresh)
        if inbox:
            ids = sorted(inbox)
            present = set(
                session.execute(
                    select(InboxMessage.event_id).where(InboxMessage.event_id.in_(ids))
                ).scalars()
            )
            for event_id in present:
                if inbox[event_id]["fallback"]:
                    session.execute(
                        update(InboxMessage)
                        .where(InboxMessage.event_id == event_id)
                        .values(fallback=True)
                    )
            fresh_rows = [row for event_id, row in inbox.items() if event_id not in present]
            if fresh_rows:
                session.execute(insert(InboxMessage), fresh_rows)


def _inbox_row(
    event_id: int, sender: str, ts: float, parsed: ParsedUser, fallback: bool
) -> Dict[str, Any]:
    return {
        "event_id": event_id,
        "conversation_id": sender,
        "at": ts,
        "text": parsed["text"],
        "intent": parsed["intent"],
        "confidence": parsed["confidence"],
        "best_guess": parsed["best_guess"],
        "fallback": fallback,
    }


def indexed_count(sessions: SessionFactory) -> int:
    with sessions() as session:
        return int(session.execute(select(func.count(ConversationIndex.id))).scalar_one())
