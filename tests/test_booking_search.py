"""The staff bookings list's queries on a real, migrated SQLite database with 320 requests:
keyset pages cover every row once in order (both ways), each search and filter, combined
filters, and bad input refused with a message instead of a query."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, List
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from clinic.console.booking_search import (
    ERRORS,
    QUERY_CHARS,
    BookingFilters,
    check_query,
    decode_cursor,
    search_bookings,
)
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.models import Booking

from .booking_rows import ROWS, seed

ZONE = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Session]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('search')) / 'clinic.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seed(factory)
    yield factory
    engine.dispose()


def expected_order(sessions: Callable[[], Session], keep: Callable[[Booking], bool]) -> List[str]:
    with sessions() as session:
        rows = session.query(Booking).all()
    rows.sort(key=lambda b: (b.created_at, b.id), reverse=True)
    return [b.reference for b in rows if keep(b)]


def all_pages(sessions, filters: BookingFilters, size: int) -> List[List[str]]:
    pages, cursor = [], None
    while True:
        page = search_bookings(sessions, filters, older=cursor, page_size=size)
        pages.append([b.reference for b in page.rows])
        if page.older is None:
            return pages
        cursor = decode_cursor(page.older)


def test_older_pages_cover_every_row_exactly_once_newest_first(sessions):
    pages = all_pages(sessions, BookingFilters(), size=50)
    assert [len(p) for p in pages] == [50] * 6 + [20]
    assert [ref for page in pages for ref in page] == expected_order(sessions, lambda b: True)


def test_newer_links_walk_back_to_the_same_pages(sessions):
    forward = all_pages(sessions, BookingFilters(), size=50)
    page = search_bookings(sessions, BookingFilters(), page_size=50)
    for _ in range(len(forward) - 1):
        page = search_bookings(
            sessions, BookingFilters(), older=decode_cursor(page.older), page_size=50
        )
    back = [[b.reference for b in page.rows]]
    while page.newer is not None:
        page = search_bookings(
            sessions, BookingFilters(), newer=decode_cursor(page.newer), page_size=50
        )
        back.append([b.reference for b in page.rows])
    assert back == list(reversed(forward))
    assert page.newer is None  # the first page has no "newer" link


def search(sessions, text: str, **params: str) -> List[str]:
    filters, errors = check_query({"q": text, **params}, ZONE, "US")
    assert errors == []
    return [b.reference for b in search_bookings(sessions, filters, page_size=1000).rows]


def test_name_search_is_a_case_insensitive_substring(sessions):
    found = search(sessions, "nORA qui")
    assert found == expected_order(sessions, lambda b: b.patient_name.startswith("Nora Quill"))
    assert len(found) == ROWS // 4


def test_a_phone_as_typed_finds_the_stored_e164_number(sessions):
    assert search(sessions, "(202) 555-0123") == ["RC-000123"]
    assert search(sessions, "+1 202 555 0123") == ["RC-000123"]


def test_email_search_ignores_case(sessions):
    assert search(sessions, "PATIENT7@example.ORG") == ["RC-000007"]


def test_reference_search_is_exact_and_ignores_case(sessions):
    assert search(sessions, "rc-000042") == ["RC-000042"]
    assert search(sessions, "RC-00004") == []  # a prefix of a reference is no match


def test_like_wildcards_in_a_search_are_literal(sessions):
    assert search(sessions, "%") == []
    assert search(sessions, "_") == []


def test_status_and_kind_filters(sessions):
    confirmed = search(sessions, "", status="confirmed")
    assert confirmed == expected_order(sessions, lambda b: b.status == "confirmed")
    callbacks = search(sessions, "", kind="callback")
    assert callbacks == expected_order(sessions, lambda b: b.kind == "callback")
    assert confirmed and callbacks


def test_received_dates_are_clinic_days_both_inclusive(sessions):
    found = search(sessions, "", **{"from": "2026-09-05", "to": "2026-09-06"})
    low = datetime(2026, 9, 5, tzinfo=ZONE)
    high = datetime(2026, 9, 7, tzinfo=ZONE)

    def inside(b: Booking) -> bool:
        return low <= b.created_at.replace(tzinfo=timezone.utc) < high

    assert found == expected_order(sessions, inside)
    assert 0 < len(found) < ROWS


def test_combined_filters_all_apply(sessions):
    found = search(sessions, "ada", status="cancelled", kind="booking", **{"from": "2026-09-10"})
    floor = datetime(2026, 9, 10, tzinfo=ZONE)

    def keep(b: Booking) -> bool:
        return (
            "Ada" in b.patient_name
            and b.status == "cancelled"
            and b.kind == "booking"
            and b.created_at.replace(tzinfo=timezone.utc) >= floor
        )

    assert found == expected_order(sessions, keep)
    assert found


def test_filtered_pages_also_cover_every_match_once(sessions):
    filters, _ = check_query({"status": "requested"}, ZONE, "US")
    pages = all_pages(sessions, filters, size=17)
    assert [r for p in pages for r in p] == expected_order(
        sessions, lambda b: b.status == "requested"
    )


BAD_INPUT = [
    ({"from": "2026-13-01"}, "bad_from"),
    ({"to": "yesterday"}, "bad_to"),
    ({"from": "2026-09-10", "to": "2026-09-01"}, "dates_reversed"),
    ({"status": "accepted"}, "unknown_status"),
    ({"kind": "walk-in"}, "unknown_kind"),
    ({"q": "x" * (QUERY_CHARS + 1)}, "search_too_long"),
]


@pytest.mark.parametrize("params, code", BAD_INPUT)
def test_bad_input_is_refused_with_its_reason(params, code):
    _, errors = check_query(params, ZONE, "US")
    assert errors == [code]


def test_every_refusal_is_tested_and_the_cursor_one_is_the_routes():
    assert {code for _, code in BAD_INPUT} | {"bad_cursor"} == set(ERRORS)


def test_a_search_at_the_limit_is_accepted():
    assert check_query({"q": "x" * QUERY_CHARS}, ZONE, "US")[1] == []


def test_a_damaged_cursor_is_no_key():
    assert decode_cursor("not-a-cursor") is None
    assert decode_cursor("") is None


def test_on_postgresql_pages_search_and_dates_agree_with_sqlite(postgres, sessions):
    from bench.services import create_database

    url = create_database(postgres, "booking_search")
    upgrade(url)
    engine = make_engine(url)
    pg = make_session_factory(engine)
    try:
        seed(pg)
        assert all_pages(pg, BookingFilters(), size=50) == all_pages(
            sessions, BookingFilters(), size=50
        )
        for params in (
            {"q": "nORA qui"},
            {"q": "(202) 555-0123"},
            {"q": "rc-000042", "status": "requested"},
            {"from": "2026-09-05", "to": "2026-09-06", "kind": "booking"},
        ):
            filters, errors = check_query(params, ZONE, "US")
            assert errors == []
            assert all_pages(pg, filters, size=7) == all_pages(sessions, filters, size=7), params
    finally:
        engine.dispose()
