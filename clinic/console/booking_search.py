"""The staff bookings list at real volume: filters checked before any query, search by
name, phone, e-mail or reference, and keyset paging by ``(created_at, id)``, newest first.

Filters arrive as the page's query string (``BookingQuery``); ``check_query`` turns them
into ``BookingFilters`` or into messages for the page, so bad input is never shown as an
unfiltered list. Paging never uses OFFSET: a cursor is the edge row's ``(created_at, id)``
and the index ``ix_bookings_order`` (revision 0004) answers page 1 and page 500 alike.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, List, Mapping, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from clinic.booking.phone import normalise_phone
from clinic.db.models import KINDS, STATUSES, Booking

SessionFactory = Callable[[], Session]
PAGE_SIZE = 50
QUERY_CHARS = 100  # longer searches are refused, not cut
FIELDS = ("q", "status", "kind", "from", "to")
Key = Tuple[datetime, int]
# What check_query (and a damaged page link) can refuse; the template has a sentence for each.
ERRORS = (
    "search_too_long",
    "unknown_status",
    "unknown_kind",
    "bad_from",
    "bad_to",
    "dates_reversed",
    "bad_cursor",
)


@dataclass(frozen=True)
class BookingFilters:
    search: str = ""
    phone: str | None = None  # the search as E.164, when it reads as a phone number
    status: str = ""
    kind: str = ""
    created_from: datetime | None = None  # UTC, inclusive
    created_to: datetime | None = None  # UTC, exclusive


@dataclass
class BookingPage:
    rows: List[Booking]
    older: str | None  # cursor of the next (older) page
    newer: str | None  # cursor of the previous (newer) page; None on the first page


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored moment is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def encode_cursor(row: Booking) -> str:
    raw = json.dumps([_as_utc(row.created_at).isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        return _as_utc(datetime.fromisoformat(moment)), int(row_id)
    except (ValueError, TypeError):
        return None


def _day(value: str, code: str, errors: List[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(code)
        return None


def _midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def check_query(
    params: Mapping[str, str], zone: ZoneInfo, phone_region: str
) -> Tuple[BookingFilters, List[str]]:
    """The filters the page asks for, and the code of each bad one (then do not query); the
    page's template words them (``ERRORS``).

    Dates are the day the request was received, in the clinic's timezone, both inclusive.
    """
    raw = {name: (params.get(name) or "").strip() for name in FIELDS}
    errors: List[str] = []
    search = raw["q"]
    if len(search) > QUERY_CHARS:
        errors.append("search_too_long")
        search = ""
    if raw["status"] and raw["status"] not in STATUSES:
        errors.append("unknown_status")
    if raw["kind"] and raw["kind"] not in KINDS:
        errors.append("unknown_kind")
    first = _day(raw["from"], "bad_from", errors)
    last = _day(raw["to"], "bad_to", errors)
    if first and last and first > last:
        errors.append("dates_reversed")
    phone = normalise_phone(search, phone_region).e164 if search else None
    filters = BookingFilters(
        search=search,
        phone=phone,
        status=raw["status"] if raw["status"] in STATUSES else "",
        kind=raw["kind"] if raw["kind"] in KINDS else "",
        created_from=_midnight_utc(first, zone) if first else None,
        created_to=_midnight_utc(last + timedelta(days=1), zone) if last else None,
    )
    return filters, errors


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(filters: BookingFilters) -> List[Any]:
    b = Booking
    clauses: List[Any] = []
    if filters.status:
        clauses.append(b.status == filters.status)
    if filters.kind:
        clauses.append(b.kind == filters.kind)
    if filters.created_from is not None:
        clauses.append(b.created_at >= filters.created_from)
    if filters.created_to is not None:
        clauses.append(b.created_at < filters.created_to)
    if filters.search:
        pattern = f"%{_escape_like(filters.search.lower())}%"
        matches = [
            func.lower(b.patient_name).like(pattern, escape="\\"),
            func.lower(b.email).like(pattern, escape="\\"),
            b.reference == filters.search.upper(),
        ]
        if filters.phone:
            matches.append(b.phone == filters.phone)
        clauses.append(or_(*matches))
    return clauses


def _older_than(key: Key) -> Any:
    moment, row_id = key
    b = Booking
    return or_(b.created_at < moment, and_(b.created_at == moment, b.id < row_id))


def _newer_than(key: Key) -> Any:
    moment, row_id = key
    b = Booking
    return or_(b.created_at > moment, and_(b.created_at == moment, b.id > row_id))


def search_bookings(
    sessions: SessionFactory,
    filters: BookingFilters,
    older: Key | None = None,
    newer: Key | None = None,
    page_size: int = PAGE_SIZE,
) -> BookingPage:
    """One page, newest first: after ``older`` (the next page) or before ``newer`` (back)."""
    b = Booking
    base = select(b).where(*_where(filters))
    with sessions() as session:
        if newer is not None:
            query = base.where(_newer_than(newer)).order_by(b.created_at.asc(), b.id.asc())
            items = list(session.execute(query.limit(page_size + 1)).scalars())
            if len(items) > page_size:
                rows = list(reversed(items[:page_size]))
                return BookingPage(
                    rows, older=encode_cursor(rows[-1]), newer=encode_cursor(rows[0])
                )
            older = None  # back at the top: show the first page in full
        query = base.order_by(b.created_at.desc(), b.id.desc())
        if older is not None:
            query = query.where(_older_than(older))
        items = list(session.execute(query.limit(page_size + 1)).scalars())
    rows = items[:page_size]
    return BookingPage(
        rows,
        older=encode_cursor(rows[-1]) if len(items) > page_size else None,
        newer=encode_cursor(rows[0]) if older is not None and rows else None,
    )
