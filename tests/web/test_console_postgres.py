"""The staff console on PostgreSQL, as scale-out runs it: Rasa's tracker store and the app
database are two databases of a real PostgreSQL server, filled by conversations run through
the real Rasa server and action server (a red flag; a whole booking the action server saves,
migrating the app database first). The console (``create_app`` in Starlette's TestClient)
then runs on copies of those two databases: list and badges, filters, transcript, review and
tags, booking status and the CSV, the story export, and ``python -m clinic purge``.

Starts a throw-away PostgreSQL server (``bench/services.py``) from Debian's packages, which
``make scaleout-deps`` installs (``make pytest`` does it first); without them the tests are
skipped, and fail under CI.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from starlette.testclient import TestClient

from bench.services import Postgres, create_database
from clinic.console import queries
from clinic.console.exports import EMAIL_PLACEHOLDER, NAME_PLACEHOLDER, PHONE_PLACEHOLDER
from clinic.console.index import ConversationIndexer
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import alembic_config
from clinic.db.models import Base, ConversationIntent, ConversationReview, ConversationTag
from clinic.db.repository import BookingRequest, save_request
from clinic.settings import ClinicProfile
from clinic.web.app import create_app
from clinic.web.history import make_read_only_engine
from clinic.web.settings import WebSettings

from ..servers import ROOT, start_assistant, stop_assistant
from .conftest import ADMIN_PASSWORD, STAFF_PASSWORD, add_staff_users, booking_messages
from .staff import csrf_of, log_in, page_csrf

pytestmark = pytest.mark.e2e
RED_FLAG_MESSAGES = ["hello", "i have crushing chest pain spreading to my left arm"]
BOOKING_SLOT = "next monday at 10am"  # its own PostgreSQL app database: no other test's slot
COPIES = itertools.count()


@dataclass
class PostgresConversations:
    """The two conversations Rasa stored in PostgreSQL (databases ``tracker`` and ``clinic``)."""

    pg: Postgres
    red_flag: str
    booking: str


@dataclass
class Databases:
    tracker_url: str
    app_url: str


def scalar(url: str, sql: str, **params: Any) -> Any:
    return rows(url, sql, **params)[0][0]


def rows(url: str, sql: str, **params: Any) -> List[tuple]:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def execute(url: str, sql: str, **params: Any) -> None:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql), params)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def pg_conversations(
    postgres: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> PostgresConversations:
    """A red flag and a whole booking through Rasa's REST channel, with
    ``TRACKER_STORE_URL`` and ``DATABASE_URL`` on PostgreSQL; the servers stop afterwards."""
    tracker_url = create_database(postgres, "tracker")
    app_url = create_database(postgres, "clinic")
    workdir = tmp_path_factory.mktemp("assistant-on-postgres")
    env = {"TRACKER_STORE_URL": tracker_url, "DATABASE_URL": app_url}
    assistant = start_assistant(workdir, extra_env=env)
    tag = uuid.uuid4().hex[:8]
    red, booking = f"pg-red-{tag}", f"pg-book-{tag}"
    try:
        for text in RED_FLAG_MESSAGES:
            assistant.replies(red, text)
        for text in booking_messages(BOOKING_SLOT):
            assistant.replies(booking, text)
    finally:
        stop_assistant(assistant)
    saved = rows(app_url, "SELECT reference FROM bookings WHERE conversation_id = :c", c=booking)
    assert len(saved) == 1, (workdir / "actions.log").read_text()[-3000:]
    return PostgresConversations(pg=postgres, red_flag=red, booking=booking)


@pytest.fixture
def pg_dbs(pg_conversations: PostgresConversations) -> Databases:
    """Copies of the two databases Rasa and the action server wrote (one admin, one staff)."""
    n = next(COPIES)
    pg = pg_conversations.pg
    databases = Databases(
        tracker_url=create_database(pg, f"tracker_{n}", template="tracker"),
        app_url=create_database(pg, f"clinic_{n}", template="clinic"),
    )
    add_staff_users(databases.app_url)
    return databases


@pytest.fixture
def console(make_settings: Callable[..., WebSettings], pg_dbs: Databases) -> Iterator[TestClient]:
    settings = make_settings(tracker_store_url=pg_dbs.tracker_url, database_url=pg_dbs.app_url)
    with TestClient(create_app(settings)) as client:
        log_in(client, "sam", STAFF_PASSWORD)
        yield client


def listed(console: TestClient, **params: str) -> List[str]:
    page = console.get("/staff/conversations", params=params)
    assert page.status_code == 200, page.status_code
    return re.findall(r'href="/staff/conversations/([^"/]+)"', page.text)


def row_of(page: str, sender: str) -> str:
    return page.split(f'href="/staff/conversations/{sender}"', 1)[1].split("</tr>", 1)[0]


def test_the_migrations_bring_the_postgresql_app_database_to_the_models(pg_dbs: Databases):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(pg_dbs.app_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar() == head
    finally:
        engine.dispose()


def test_the_list_puts_the_red_flag_first_with_its_badge_and_the_booking_with_its_badge(
    console: TestClient, pg_dbs: Databases, pg_conversations: PostgresConversations
):
    red, booking = pg_conversations.red_flag, pg_conversations.booking
    page = console.get("/staff/conversations").text
    pinned = re.findall(
        r'<tr( class="pinned")?>\s*<td><a href="/staff/conversations/([^"/]+)"', page
    )
    assert pinned == [(' class="pinned"', red), ("", booking)]
    assert "Red flag" in row_of(page, red) and "Booking" not in row_of(page, red)
    assert "Booking" in row_of(page, booking) and "Red flag" not in row_of(page, booking)
    assert "<td>hello</td>" in row_of(page, red)
    # keyset paging on PostgreSQL: one row a page, each conversation once, in the same order
    engine = make_engine(pg_dbs.app_url)
    sessions, seen, cursor = make_session_factory(engine), [], None
    while True:
        found = queries.list_conversations(sessions, queries.ConversationFilters(), cursor, 1)
        seen += [row.sender_id for row in found.rows]
        if (cursor := found.next_cursor) is None:
            break
    engine.dispose()
    assert seen == [red, booking]


def test_filters_by_red_flag_booking_intent_dates_and_search_select_the_right_ones(
    console: TestClient, clinic: ClinicProfile, pg_dbs: Databases, pg_conversations
):
    red, booking = pg_conversations.red_flag, pg_conversations.booking
    assert listed(console, red_flag="1") == [red]
    assert listed(console, booking="1") == [booking]
    assert listed(console, q="CHEST pain") == [red]
    assert listed(console, q="book an appointment") == [booking]
    assert listed(console, q="100%") == []  # LIKE wildcards are literal
    today = datetime.now(ZoneInfo(clinic.timezone)).date()
    around = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    assert listed(console, **around) == [red, booking]
    assert listed(console, **{"from": str(today + timedelta(days=2))}) == []
    assert listed(console, to=str(today - timedelta(days=2))) == []
    intent = scalar(
        pg_dbs.tracker_url,
        "SELECT intent_name FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id",
        s=booking,
    )
    with_intent = rows(
        pg_dbs.tracker_url,
        "SELECT DISTINCT sender_id FROM events WHERE type_name = 'user' AND intent_name = :i",
        i=intent,
    )
    assert set(listed(console, intent=intent)) == {s for (s,) in with_intent} >= {booking}


def test_the_transcript_shows_intents_with_confidence_entities_and_slots(
    console: TestClient, pg_conversations: PostgresConversations
):
    page = console.get(f"/staff/conversations/{pg_conversations.red_flag}").text
    assert "crushing chest pain" in page and "red_flag=cardiac" in page
    shown = re.findall(r"Intent <strong>(\w+)</strong> \(([01]\.\d\d)\)", page)
    assert len(shown) == len(RED_FLAG_MESSAGES), shown
    page = console.get(f"/staff/conversations/{pg_conversations.booking}").text
    assert re.search(r"Slot <span class=\"mono\">patient_name</span> set to", page)
    assert "Nora Quill" in page and "booking_reference" in page


def test_mark_reviewed_and_a_tag_are_stored_in_postgresql_and_shown_after_a_restart(
    console: TestClient,
    make_settings: Callable[..., WebSettings],
    pg_dbs: Databases,
    pg_conversations: PostgresConversations,
):
    red = pg_conversations.red_flag
    csrf = page_csrf(console)
    console.post(f"/staff/conversations/{red}/tags", data={"csrf": csrf, "tag": "Called Back"})
    console.post(f"/staff/conversations/{red}/review", data={"csrf": csrf})
    app = pg_dbs.app_url
    assert rows(app, "SELECT tag FROM conversation_tags WHERE conversation_id = :c", c=red) == [
        ("called back",)
    ]
    by = "SELECT reviewed_by FROM conversation_reviews WHERE conversation_id = :c"
    assert scalar(app, by, c=red) == "sam"
    flags = "SELECT reviewed, pinned FROM conversation_index WHERE sender_id = :c"
    assert rows(app, flags, c=red) == [(True, False)]
    settings = make_settings(tracker_store_url=pg_dbs.tracker_url, database_url=app)
    with TestClient(create_app(settings)) as again:  # a new web app on the same databases
        log_in(again, "sam", STAFF_PASSWORD)
        assert "Reviewed by sam" in again.get(f"/staff/conversations/{red}").text
        assert listed(again, tag="called back") == [red]
        assert listed(again, reviewed="yes") == [red]
        row = row_of(again.get("/staff/conversations").text, red)
        assert "Reviewed" in row and "called back" in row


def test_a_booking_status_change_is_stored_and_exported_in_the_csv(
    console: TestClient, pg_dbs: Databases, pg_conversations: PostgresConversations
):
    find = "SELECT id, reference, status FROM bookings WHERE conversation_id = :c"
    [(booking_id, reference, status)] = rows(pg_dbs.app_url, find, c=pg_conversations.booking)
    assert status == "requested"
    csrf = page_csrf(console, "/staff/bookings")
    done = console.post(
        f"/staff/bookings/{booking_id}/status", data={"csrf": csrf, "status": "confirmed"}
    )
    assert done.status_code == 200
    assert rows(pg_dbs.app_url, find, c=pg_conversations.booking)[0][2] == "confirmed"
    exported = console.get("/staff/bookings.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    [row] = [r for r in csv.DictReader(io.StringIO(exported.text)) if r["reference"] == reference]
    assert (row["status"], row["patient_name"], row["phone"]) == (
        "confirmed",
        "Nora Quill",
        "'+12025550177",
    )
    assert datetime.fromisoformat(row["preferred_start"]).strftime("%A %H:%M") == "Monday 10:00"
    assert row["conversation_id"] == pg_conversations.booking


def test_the_story_export_has_placeholders_instead_of_personal_data(
    console: TestClient, pg_conversations: PostgresConversations
):
    story = console.get(f"/staff/conversations/{pg_conversations.booking}/story.yml").text
    for personal in ("Nora", "Quill", "555-0177", "5550177", "nora.quill@example.org"):
        assert personal not in story, personal
    for placeholder in (NAME_PLACEHOLDER, PHONE_PLACEHOLDER, EMAIL_PLACEHOLDER):
        assert placeholder in story, placeholder
    steps = yaml.safe_load(story)["stories"][0]["steps"]
    assert {"action": "booking_form"} in steps


def test_accounts_the_audit_log_and_login_locks_work_on_postgresql(
    make_settings: Callable[..., WebSettings], pg_dbs: Databases
):
    app = pg_dbs.app_url
    settings = make_settings(tracker_store_url=pg_dbs.tracker_url, database_url=app)
    with TestClient(create_app(settings)) as client:
        log_in(client, "admin", ADMIN_PASSWORD)
        csrf = page_csrf(client, "/staff/users")
        new = {"csrf": csrf, "name": "Nina", "role": "staff", "password": "long enough password"}
        assert client.post("/staff/users/new", data=new).status_code == 200
        refused = client.post("/staff/users/new", data={**new, "name": "NINA"})
        assert refused.status_code == 400  # names are unique in any case
        audit = client.get("/staff/audit").text
        assert "create_user" in audit and "Nina" in audit
        client.post("/staff/logout", data={"csrf": page_csrf(client)})
        for _ in range(5):
            page = client.get("/staff/login")
            wrong = {"csrf": csrf_of(page.text), "name": "nina", "password": "not the password"}
            assert client.post("/staff/login", data=wrong).status_code != 303
    assert rows(app, "SELECT name, role FROM staff_users WHERE name = 'Nina'") == [
        ("Nina", "staff")
    ]
    until = scalar(app, "SELECT locked_until FROM staff_login_throttle WHERE key = 'user:nina'")
    assert until is not None and until > datetime.now(timezone.utc)


def test_an_event_committed_after_a_later_one_still_reaches_the_index(
    pg_dbs: Databases, pg_conversations: PostgresConversations
):
    """Several Rasa processes on PostgreSQL: ids are handed out at insert, so a red-flag
    message can become visible after an event with a higher id that the index already read."""
    [(red_flag_data,)] = rows(
        pg_dbs.tracker_url,
        "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"
        " ORDER BY id DESC LIMIT 1",
        s=pg_conversations.red_flag,
    )
    insert = sa.text(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data)"
        " VALUES (:sender, 'user', :at, 'greet', :data)"
    )
    engine = make_engine(pg_dbs.app_url)
    sessions = make_session_factory(engine)
    tracker = make_read_only_engine(pg_dbs.tracker_url, ROOT)
    indexer = ConversationIndexer(sessions, tracker)
    indexer.sync()
    writer = sa.create_engine(pg_dbs.tracker_url, future=True)
    late, early = f"late-{uuid.uuid4().hex[:8]}", f"early-{uuid.uuid4().hex[:8]}"
    hello = json.dumps({"event": "user", "text": "hello", "parse_data": {}})

    def indexed() -> Dict[str, bool]:
        found = queries.list_conversations(sessions, queries.ConversationFilters(), None, 100)
        return {row.sender_id: row.red_flag for row in found.rows}

    try:
        with writer.connect() as first:
            slow = first.begin()  # takes the smaller id, commits last
            first.execute(insert, {"sender": late, "at": time.time(), "data": red_flag_data})
            with writer.begin() as second:
                second.execute(insert, {"sender": early, "at": time.time(), "data": hello})
            indexer.sync()
            assert early in indexed() and late not in indexed()
            slow.commit()
        indexer.sync()
        assert indexed()[late] is True  # with its red flag
        assert indexer.sync() == 0  # and only once
    finally:
        writer.dispose()
        tracker.dispose()
        engine.dispose()


def events_digest(tracker_url: str) -> List[tuple]:
    return rows(
        tracker_url,
        "SELECT id, sender_id, type_name, timestamp, action_name, data FROM events ORDER BY id",
    )


def test_the_console_never_writes_to_the_postgresql_tracker_store(
    console: TestClient, pg_dbs: Databases, pg_conversations: PostgresConversations
):
    before = events_digest(pg_dbs.tracker_url)
    csrf = page_csrf(console)
    for sender in (pg_conversations.red_flag, pg_conversations.booking):
        console.get(f"/staff/conversations/{sender}")
        console.post(f"/staff/conversations/{sender}/review", data={"csrf": csrf})
        console.get(f"/staff/conversations/{sender}/story.yml")
    console.get("/staff/inbox/nlu.yml")
    assert events_digest(pg_dbs.tracker_url) == before
    engine = make_read_only_engine(pg_dbs.tracker_url, ROOT)
    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"), engine.begin() as db:
        db.execute(sa.text("DELETE FROM events"))
    engine.dispose()


def purge_command(pg_dbs: Databases, days: int) -> subprocess.CompletedProcess:
    env: Dict[str, str] = {**os.environ, "TRACKER_STORE_URL": pg_dbs.tracker_url}
    command = [sys.executable, "-m", "clinic", "--database-url", pg_dbs.app_url, "purge"]
    return subprocess.run(
        command + ["--days", str(days)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_purge_deletes_old_conversations_events_and_requests_on_postgresql_and_keeps_new(
    console: TestClient, pg_dbs: Databases, pg_conversations: PostgresConversations
):
    red, booking = pg_conversations.red_flag, pg_conversations.booking
    tracker, app = pg_dbs.tracker_url, pg_dbs.app_url
    days = 180
    # the console's own rows about the red flag: index, tag, review
    csrf = page_csrf(console)
    console.post(f"/staff/conversations/{red}/tags", data={"csrf": csrf, "tag": "old"})
    console.post(f"/staff/conversations/{red}/review", data={"csrf": csrf})
    # the red-flag conversation ends (days + 1) days ago; an old call-back request, too
    execute(
        tracker,
        "UPDATE events SET timestamp = timestamp - :shift WHERE sender_id = :s",
        shift=(days + 1) * 86_400.0,
        s=red,
    )
    engine = make_engine(app)
    old_request = BookingRequest(kind="callback", patient_name="Old Caller", phone="+12025550100")
    old_reference, _ = save_request(make_session_factory(engine), old_request, "old-request")
    engine.dispose()
    execute(
        app,
        "UPDATE bookings SET created_at = now() - make_interval(days => :d) WHERE reference = :r",
        d=days + 1,
        r=old_reference,
    )
    count = "SELECT COUNT(*) FROM events WHERE sender_id = :s"
    red_events, booking_events = scalar(tracker, count, s=red), scalar(tracker, count, s=booking)
    assert red_events > 0 and booking_events > 0

    done = purge_command(pg_dbs, days)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"deleted 1 conversations ({red_events} events) and 1 booking requests" in done.stdout
    assert scalar(tracker, count, s=red) == 0
    assert scalar(tracker, count, s=booking) == booking_events
    assert rows(app, "SELECT sender_id FROM conversation_index") == [(booking,)]
    engine = make_engine(app)
    with engine.connect() as connection:
        for model in (ConversationTag, ConversationReview, ConversationIntent):
            about_red = sa.select(model).where(model.conversation_id == red)
            assert connection.execute(about_red).all() == [], model.__tablename__
    engine.dispose()
    assert rows(app, "SELECT conversation_id FROM bookings") == [(booking,)]
    assert listed(console) == [booking]
    again = purge_command(pg_dbs, days)
    assert "deleted 0 conversations (0 events) and 0 booking requests" in again.stdout


def test_the_seeded_postgresql_databases_hold_what_rasa_stored(
    pg_dbs: Databases, pg_conversations: PostgresConversations
):
    """The tracker store is Rasa's own: every user message of both conversations is there,
    with its parse data, in the order sent."""
    stored = rows(
        pg_dbs.tracker_url,
        "SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id",
    )
    texts: Dict[str, List[str]] = {}
    for sender, data in stored:
        texts.setdefault(sender, []).append(json.loads(data)["text"])
    assert texts == {
        pg_conversations.red_flag: RED_FLAG_MESSAGES,
        pg_conversations.booking: booking_messages(BOOKING_SLOT),
    }
