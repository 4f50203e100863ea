"""A patient's data rights: everything stored about one person, found, exported and deleted.

``python -m clinic forget`` (``clinic/cli.py``) runs it. A person is named by one of
their phone number (matched in the E.164 form bookings store), e-mail address (matched
whatever its case), booking reference or conversation id. What is theirs:

- the ``bookings`` rows (bookings and call-backs) that match, and every other request
  made in the same conversations;
- those conversations in Rasa's tracker store (every ``events`` row of the sender ids);
- the console's rows about those conversations (index, intents, inbox, tags, notes and
  reviews).

The tracker store is a second database, so it cannot share a transaction with the app
database: its events are deleted first, in one transaction, then the app database's rows
and the audit row in another. A failure between the two leaves the bookings, so running
the command again finds the same conversations and finishes the job.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

from sqlalchemy import bindparam, delete, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from clinic.booking.email import normalise_email
from clinic.booking.phone import normalise_phone
from clinic.db.models import AuditEntry, Booking, StaffAlert
from clinic.db.repository import REFERENCE_ALPHABET, REFERENCE_LENGTH

from .retention import CONVERSATION_ROWS

SessionFactory = Callable[[], Session]
SELECTORS = ("phone", "email", "reference", "conversation")
REFERENCE = re.compile(rf"^RC-[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}$")
MAX_CONVERSATION_ID = 255  # conversation_reviews.conversation_id, Rasa's sender_id

_EVENTS = text(
    "SELECT id, sender_id, type_name, timestamp, data FROM events"
    " WHERE sender_id IN :senders ORDER BY sender_id, id"
).bindparams(bindparam("senders", expanding=True))
_DELETE_EVENTS = text("DELETE FROM events WHERE sender_id IN :senders").bindparams(
    bindparam("senders", expanding=True)
)


class SelectorError(ValueError):
    """The person cannot be looked for as asked; the message says why."""


@dataclass(frozen=True)
class Selector:
    kind: str  # one of SELECTORS
    value: str  # normalised: E.164, the checked address, RC-XXXXXX, the sender id


@dataclass
class Found:
    """Everything stored about one person; ``rows`` per table, as plain JSON values."""

    selector: Selector
    rows: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    conversation_ids: List[str] = field(default_factory=list)

    @property
    def references(self) -> List[str]:
        return sorted(row["reference"] for row in self.rows.get("bookings", []))

    def counts(self) -> Dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items() if rows}

    @property
    def empty(self) -> bool:
        return not self.counts()


def parse_selector(kind: str, raw: str, phone_region: str) -> Selector:
    """The selector in the form the databases store; ``SelectorError`` when malformed."""
    raw = (raw or "").strip()
    if kind == "phone":
        phone = normalise_phone(raw, phone_region)
        if not phone.ok or phone.e164 is None:
            raise SelectorError(f"{raw!r} is not a phone number (region {phone_region})")
        return Selector(kind, phone.e164)
    if kind == "email":
        email = normalise_email(raw)
        if not email.ok or email.email is None:
            raise SelectorError(f"{raw!r} is not an e-mail address")
        return Selector(kind, email.email)
    if kind == "reference":
        reference = raw.upper()
        if not REFERENCE.match(reference):
            raise SelectorError(
                f"{raw!r} is not a booking reference (RC- and {REFERENCE_LENGTH} letters or digits)"
            )
        return Selector(kind, reference)
    if kind == "conversation":
        if not raw or len(raw) > MAX_CONVERSATION_ID:
            raise SelectorError(
                f"a conversation id is 1-{MAX_CONVERSATION_ID} characters, not {len(raw)}"
            )
        return Selector(kind, raw)
    raise SelectorError(f"unknown selector {kind!r}: use one of {', '.join(SELECTORS)}")


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row_dict(row: Any) -> Dict[str, Any]:
    return {column.key: _plain(getattr(row, column.key)) for column in row.__table__.columns}


def _matching_bookings(session: Session, selector: Selector) -> List[Booking]:
    query = select(Booking)
    if selector.kind == "phone":
        query = query.where(Booking.phone == selector.value)
    elif selector.kind == "email":
        query = query.where(func.lower(Booking.email) == selector.value.lower())
    elif selector.kind == "reference":
        query = query.where(Booking.reference == selector.value)
    else:
        query = query.where(Booking.conversation_id == selector.value)
    return list(session.execute(query).scalars())


def _has_events(tracker: Engine) -> bool:
    """Before Rasa's first conversation the tracker store has no ``events`` table."""
    return inspect(tracker).has_table("events")


def _events(tracker: Engine, senders: List[str]) -> List[Dict[str, Any]]:
    if not senders or not _has_events(tracker):
        return []
    with tracker.connect() as connection:
        rows = connection.execute(_EVENTS, {"senders": senders}).all()
    return [
        {
            "id": row.id,
            "sender_id": row.sender_id,
            "type_name": row.type_name,
            "timestamp": row.timestamp,
            "data": json.loads(row.data) if row.data else None,
        }
        for row in rows
    ]


def find(sessions: SessionFactory, tracker: Engine, selector: Selector) -> Found:
    """What is stored about the person ``selector`` names, in both databases."""
    found = Found(selector)
    with sessions() as session:
        bookings = _matching_bookings(session, selector)
        conversations = {b.conversation_id for b in bookings if b.conversation_id}
        if selector.kind == "conversation":
            conversations.add(selector.value)
        ids = sorted(conversations)
        if ids:  # the other requests made in the same conversations
            same = select(Booking).where(
                Booking.conversation_id.in_(ids), Booking.id.not_in([b.id for b in bookings])
            )
            bookings += list(session.execute(same).scalars())
        found.rows["bookings"] = [_row_dict(b) for b in sorted(bookings, key=lambda b: b.id)]
        for model, column in CONVERSATION_ROWS:
            rows = session.execute(select(model).where(column.in_(ids))).scalars() if ids else []
            found.rows[model.__tablename__] = [_row_dict(row) for row in rows]
    found.rows["events"] = _events(tracker, ids)
    found.conversation_ids = sorted(
        {row["sender_id"] for row in found.rows["events"]}
        | {b["conversation_id"] for b in found.rows["bookings"] if b["conversation_id"]}
        | {row["sender_id"] for row in found.rows["conversation_index"]}
        | {
            row["conversation_id"]
            for model, _ in CONVERSATION_ROWS[1:]
            for row in found.rows[model.__tablename__]
        }
    )
    # Staff alerts name a booking reference or a conversation id (no personal data, but
    # they point at what is deleted here).
    keys = [b["reference"] for b in found.rows["bookings"]] + found.conversation_ids
    with sessions() as session:
        alerts = (
            session.execute(select(StaffAlert).where(StaffAlert.reference.in_(keys))).scalars()
            if keys
            else []
        )
        found.rows[StaffAlert.__tablename__] = [_row_dict(alert) for alert in alerts]
    return found


def export_json(found: Found) -> str:
    """Everything found, for the person to see: JSON, one key per table."""
    document = {
        "selector": {"kind": found.selector.kind, "value": found.selector.value},
        "conversation_ids": found.conversation_ids,
        "tables": found.rows,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def audit_text(found: Found) -> Tuple[str, str]:
    """The audit row's target and detail: the selector's kind, references and counts only
    (no phone number, address, name or health detail of the person deleted)."""
    references = ", ".join(found.references) or "no booking reference"
    target = f"by {found.selector.kind}: {references}"
    counts = ", ".join(f"{table}={count}" for table, count in sorted(found.counts().items()))
    return target, f"{len(found.conversation_ids)} conversations; {counts}"


def forget(sessions: SessionFactory, tracker: Engine, found: Found, operator: str) -> int:
    """Deletes what ``find`` found (and any event those conversations got since) and writes
    the audit row; the number of rows deleted."""
    senders = found.conversation_ids
    deleted = 0
    if senders and _has_events(tracker):
        with tracker.begin() as connection:
            deleted += connection.execute(_DELETE_EVENTS, {"senders": senders}).rowcount or 0
    booking_ids = [row["id"] for row in found.rows.get("bookings", [])]
    alert_ids = [row["id"] for row in found.rows.get(StaffAlert.__tablename__, [])]
    target, detail = audit_text(found)
    with sessions() as session, session.begin():
        if booking_ids:
            deleted += session.execute(delete(Booking).where(Booking.id.in_(booking_ids))).rowcount
        if alert_ids:
            deleted += session.execute(
                delete(StaffAlert).where(StaffAlert.id.in_(alert_ids))
            ).rowcount
        if senders:
            for model, column in CONVERSATION_ROWS:
                deleted += session.execute(delete(model).where(column.in_(senders))).rowcount
        session.add(
            AuditEntry(user_name=operator, action="forget", target=target[:300], detail=detail)
        )
    return deleted
