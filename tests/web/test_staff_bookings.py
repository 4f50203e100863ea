"""The staff bookings page over HTTP on 320 seeded requests: search, filters and pages keep
each other, bad filters give a message and no list, and a confirmed booking's calendar file
follows RFC 5545 (CRLF, 75-octet folding, UTC times) with the reference and no health detail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, List
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from clinic.console.ics import booking_ics, fold
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.models import Booking
from clinic.web.app import create_app
from clinic.web.settings import WebSettings

from ..booking_rows import ROWS, seed
from .conftest import STAFF_PASSWORD, add_staff_users
from .staff import log_in

REFERENCE = re.compile(r'<span class="ref">(RC-\d+)</span>')


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    add_staff_users(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    seed(make_session_factory(engine))
    engine.dispose()
    return path


@pytest.fixture
def anonymous(make_settings: Callable[..., WebSettings], app_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(database_url=f"sqlite:///{app_db}"))) as client:
        yield client


@pytest.fixture
def staff(anonymous: TestClient) -> TestClient:
    log_in(anonymous, "sam", STAFF_PASSWORD)
    return anonymous


def references(html: str) -> List[str]:
    return REFERENCE.findall(html)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return match.group(1).replace("&amp;", "&") if match else None


def booking_id(app_db: Path, reference: str) -> int:
    engine = make_engine(f"sqlite:///{app_db}")
    with make_session_factory(engine)() as session:
        found = session.query(Booking).filter_by(reference=reference).one()
        engine.dispose()
        return found.id


def test_older_and_newer_links_page_through_all_requests(staff: TestClient):
    first = staff.get("/staff/bookings")
    seen, html, pages = [], first.text, [references(first.text)]
    seen += pages[0]
    while (older := link(html, "next")) is not None:
        html = staff.get(older).text
        pages.append(references(html))
        seen += pages[-1]
    assert len(seen) == ROWS and len(set(seen)) == ROWS
    assert len(pages[0]) == 50
    back = staff.get(link(html, "prev")).text
    assert references(back) == pages[-2]


def test_pages_keep_the_search_and_filters(staff: TestClient):
    html = staff.get("/staff/bookings", params={"q": "ada", "kind": "booking"}).text
    older = link(html, "next")
    assert older is not None
    query = parse_qs(urlsplit(older).query)
    assert query["q"] == ["ada"] and query["kind"] == ["booking"]
    assert 'value="ada"' in html and '<option value="booking" selected>' in html


def test_a_typed_phone_finds_the_request(staff: TestClient):
    html = staff.get("/staff/bookings", params={"q": "(202) 555-0123"}).text
    assert references(html) == ["RC-000123"]


@pytest.mark.parametrize(
    "params, says",
    [
        (
            {"from": "2026-02-30"},
            "“Received from” must be a date written as YYYY-MM-DD, not “2026-02-30”",
        ),
        ({"to": "friday"}, "“Received to” must be a date written as YYYY-MM-DD, not “friday”"),
        ({"from": "2026-09-10", "to": "2026-09-01"}, "“Received from” is after “Received to”"),
        ({"status": "accepted"}, "There is no status “accepted”"),
        ({"kind": "x"}, "There is no kind of request “x”"),
        ({"q": "a" * 101}, "The search is longer than 100 characters"),
        ({"older": "%%%"}, "The page link is damaged"),
    ],
)
def test_bad_filters_show_their_message_and_no_list(
    staff: TestClient, params: Dict[str, str], says: str
):
    response = staff.get("/staff/bookings", params=params)
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "no requests are listed" in response.text
    assert says in response.text.replace("&#34;", '"')
    assert references(response.text) == []


def test_confirmed_bookings_link_their_calendar_file(staff: TestClient, app_db: Path):
    html = staff.get("/staff/bookings", params={"q": "RC-000001"}).text  # i=1: confirmed
    assert f"/staff/bookings/{booking_id(app_db, 'RC-000001')}.ics" in html
    html = staff.get("/staff/bookings", params={"q": "RC-000002"}).text  # cancelled
    assert ".ics" not in html


def test_a_status_change_returns_to_the_same_search_and_page(staff: TestClient, app_db: Path):
    html = staff.get("/staff/bookings", params={"q": "ada", "kind": "booking"}).text
    older = link(html, "next")
    page = staff.get(older).text
    target = references(page)[0]
    target_id = booking_id(app_db, target)
    back = re.search(r'name="back" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    done = staff.post(
        f"/staff/bookings/{target_id}/status",
        data={"csrf": csrf, "status": "cancelled", "back": back},
        follow_redirects=False,
    )
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("/staff/bookings?") and location.endswith(f"#booking-{target_id}")
    assert parse_qs(urlsplit(location).query) == parse_qs(urlsplit(older).query)
    hostile = staff.post(
        f"/staff/bookings/{target_id}/status",
        data={"csrf": csrf, "status": "confirmed", "back": "next=//evil.example&q=x"},
        follow_redirects=False,
    )
    assert hostile.headers["location"] == f"/staff/bookings?q=x#booking-{target_id}"


def unfold(body: bytes) -> List[str]:
    """Content lines by RFC 5545 3.1: every line ends in CRLF; CRLF + space continues it."""
    text = body.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for physical in text.split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75, physical
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def properties(lines: List[str]) -> Dict[str, str]:
    return dict(line.split(":", 1) for line in lines)


def test_the_calendar_file_has_the_event_in_utc_and_no_health_detail(
    staff: TestClient, app_db: Path
):
    response = staff.get(f"/staff/bookings/{booking_id(app_db, 'RC-000001')}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    lines = unfold(response.content)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1
    fields = properties(lines)
    assert fields["VERSION"] == "2.0"
    assert fields["UID"].startswith("RC-000001@")
    assert fields["SUMMARY"] == "RC-000001"
    assert fields["DTSTART"] == "20261210T150000Z"  # 10:00 at -05:00
    assert fields["DTEND"] == "20261210T154500Z"  # clinic.yml appointment_minutes: 45
    assert re.fullmatch(r"\d{8}T\d{6}Z", fields["DTSTAMP"])
    text = response.text.lower()
    for private in ("back pain", "ada", "lovelace", "patient1@", "+1202"):
        assert private not in text


def test_the_calendar_file_is_404_unless_a_confirmed_booking(staff: TestClient, app_db: Path):
    assert staff.get("/staff/bookings/999999.ics").status_code == 404
    cancelled = booking_id(app_db, "RC-000002")
    assert staff.get(f"/staff/bookings/{cancelled}.ics").status_code == 404


def test_the_calendar_file_needs_a_login(anonymous: TestClient, app_db: Path):
    path = f"/staff/bookings/{booking_id(app_db, 'RC-000001')}.ics"
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/staff/login" in response.headers["location"]


@pytest.mark.parametrize("filler", ["x", "é"])
def test_long_lines_fold_at_75_octets_without_splitting_a_character(filler: str):
    line = "SUMMARY:" + filler * 200
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 2
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)  # the leading space counts
    assert all(p.startswith(" ") for p in pieces[1:])
    assert folded.replace("\r\n ", "") == line


def test_the_calendar_text_escapes_commas_and_semicolons():
    body = booking_ics(
        "RC-1",
        datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=-5))),
        30,
        "Smith, Jones; Co",
        "example.org",
        stamp=datetime(2026, 11, 1, tzinfo=timezone.utc),
    )
    fields = properties(unfold(body))
    assert fields["PRODID"] == "-//Smith\\, Jones\\; Co//Staff console//EN"
    assert fields["DTSTART"] == "20261201T140000Z" and fields["DTEND"] == "20261201T143000Z"
    assert fields["DTSTAMP"] == "20261101T000000Z"
