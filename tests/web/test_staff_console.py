"""The staff console on conversations run through the real Rasa server and action server:
the list (badges, filters, search, keyset paging, red flags first), the transcript,
reviews, tags, notes, the inbox and its exports, booking requests and the CSV, the
audit log. The tracker store is only read."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Callable, Iterator, Tuple

import pytest
import yaml
from starlette.testclient import TestClient

from clinic.console import queries
from clinic.console.exports import (
    EMAIL_PLACEHOLDER,
    NAME_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    safe_cell,
)
from clinic.console.index import ConversationIndexer
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.repository import BookingRequest, save_request
from clinic.web.app import create_app
from clinic.web.history import make_read_only_engine
from clinic.web.settings import WebSettings

from .conftest import STAFF_PASSWORD, RealConversations
from .staff import log_in, page_csrf

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def console(
    make_settings: Callable[..., WebSettings], console_dbs: Tuple[Path, Path]
) -> Iterator[TestClient]:
    tracker, app_db = console_dbs
    settings = make_settings(
        tracker_store_url=f"sqlite:///{tracker}", database_url=f"sqlite:///{app_db}"
    )
    with TestClient(create_app(settings)) as client:
        log_in(client, "sam", STAFF_PASSWORD)
        yield client


def rows_of(html: str) -> list[str]:
    return re.findall(r'href="/staff/conversations/([^"/]+)"', html)


def test_the_list_shows_badges_and_red_flags_first(
    console: TestClient, real_conversations: RealConversations
):
    page = console.get("/staff/conversations").text
    senders = rows_of(page)
    mine = [s for s in senders if s in real_conversations.senders_in_order]
    assert set(mine) == set(real_conversations.senders_in_order)
    assert senders[0] == real_conversations.red_flag or real_conversations.red_flag in senders[:5]
    # every pinned (red flag, not reviewed) row comes before every other row
    pinned = re.findall(r'<tr( class="pinned")?>\s*<td><a href="/staff/conversations/', page)
    assert pinned.index("") > 0 and "" not in pinned[: pinned.index("")]
    assert ' class="pinned"' not in pinned[pinned.index("") :]
    row = page.split(real_conversations.red_flag, 1)[1].split("</tr>", 1)[0]
    assert "Red flag" in row and "<td>hello</td>" in row
    row = page.split(real_conversations.unsure, 1)[1].split("</tr>", 1)[0]
    assert "Low confidence" in row
    row = page.split(real_conversations.booking, 1)[1].split("</tr>", 1)[0]
    assert "Booking" in row and "book an appointment" in row


def listed(console: TestClient, query: str, real: RealConversations) -> set[str]:
    page = console.get("/staff/conversations?" + query)
    assert page.status_code == 200
    return set(rows_of(page.text)) & set(real.senders_in_order)


def test_filters_and_search(console: TestClient, real_conversations: RealConversations):
    real = real_conversations
    assert listed(console, "red_flag=1", real) == {real.red_flag}
    assert listed(console, "booking=1", real) == {real.booking}
    assert real.unsure in listed(console, "low_confidence=1", real)
    assert real.plain not in listed(console, "low_confidence=1", real)
    assert listed(console, "intent=ask_safety", real) == {real.plain}
    assert listed(console, "q=SORE+afterwards", real) == {real.plain}
    assert listed(console, "q=100%25", real) == set()  # LIKE wildcards are literal
    assert listed(console, "from=2000-01-01&to=2000-01-02", real) == set()
    assert listed(console, "from=2000-01-01", real) == set(real.senders_in_order)
    assert listed(console, "reviewed=yes", real) == set()
    csrf = page_csrf(console)
    console.post(
        f"/staff/conversations/{real.plain}/tags", data={"csrf": csrf, "tag": "Good Answer"}
    )
    console.post(f"/staff/conversations/{real.plain}/review", data={"csrf": csrf, "reviewed": "1"})
    assert listed(console, "tag=good+answer", real) == {real.plain}
    assert listed(console, "reviewed=yes", real) == {real.plain}
    assert real.plain not in listed(console, "reviewed=no", real)


def test_keyset_pages_cover_every_conversation_once_in_order(
    console: TestClient, console_dbs: Tuple[Path, Path]
):
    tracker, app_db = console_dbs
    console.get("/staff/conversations")  # brings the index up to date
    engine = make_engine(f"sqlite:///{app_db}")
    sessions = make_session_factory(engine)
    everything = queries.list_conversations(sessions, queries.ConversationFilters(), None, 10_000)
    seen, cursor = [], None
    while True:
        page = queries.list_conversations(sessions, queries.ConversationFilters(), cursor, 3)
        seen += [row.sender_id for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [row.sender_id for row in everything.rows]
    assert len(seen) == len(set(seen)) >= 4
    # the same through the web page's "Next page" link
    html = console.get("/staff/conversations").text
    assert len(rows_of(html)) == min(len(seen), queries.PAGE_SIZE)
    engine.dispose()


def test_the_transcript_shows_intents_entities_and_slot_changes(
    console: TestClient, real_conversations: RealConversations
):
    page = console.get(f"/staff/conversations/{real_conversations.red_flag}").text
    assert "crushing chest pain" in page and "Red flag" in page
    assert "red_flag=cardiac" in page
    assert re.search(r"Intent <strong>\w+</strong> \(0\.\d\d\)", page)
    page = console.get(f"/staff/conversations/{real_conversations.booking}").text
    assert re.search(r"Slot <span class=\"mono\">patient_name</span> set to", page)
    assert "Nora Quill" in page and "booking_reference" in page
    assert console.get("/staff/conversations/no-such-sender").status_code == 404


def test_mark_reviewed_unpins_a_red_flag_and_notes_are_kept(
    console: TestClient, real_conversations: RealConversations
):
    red = real_conversations.red_flag
    csrf = page_csrf(console)
    assert (
        console.post(f"/staff/conversations/{red}/review", data={"csrf": csrf}).status_code == 200
    )
    assert (
        console.post(
            f"/staff/conversations/{red}/note", data={"csrf": csrf, "note": "Called back <b>ok</b>"}
        ).status_code
        == 200
    )
    page = console.get(f"/staff/conversations/{red}").text
    assert "Reviewed by sam" in page and "Called back &lt;b&gt;ok&lt;/b&gt;" in page
    listing = console.get("/staff/conversations").text
    row = listing.split(red, 1)[0].rsplit("<tr", 1)[1]
    assert "pinned" not in row


def test_the_console_never_writes_to_the_tracker_store(
    console: TestClient, console_dbs: Tuple[Path, Path], real_conversations: RealConversations
):
    tracker, _ = console_dbs
    before = hashlib.sha256(tracker.read_bytes()).hexdigest()
    csrf = page_csrf(console)
    for sender in real_conversations.senders_in_order:
        console.get(f"/staff/conversations/{sender}")
        console.post(f"/staff/conversations/{sender}/review", data={"csrf": csrf})
        console.post(f"/staff/conversations/{sender}/tags", data={"csrf": csrf, "tag": "x"})
        console.get(f"/staff/conversations/{sender}/story.yml")
    console.get("/staff/inbox/nlu.yml")
    assert hashlib.sha256(tracker.read_bytes()).hexdigest() == before
    engine = make_read_only_engine(f"sqlite:///{tracker}", ROOT)
    with pytest.raises(Exception, match="readonly"), engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM events")
    engine.dispose()


def test_the_inbox_and_its_nlu_export(console: TestClient, real_conversations: RealConversations):
    page = console.get("/staff/inbox").text
    assert "qqqq wwww" in page  # nlu_fallback
    assert "blorp fizzle wug zonk" not in page  # out_of_scope, confidently
    assert "is dry needling safe?" not in page
    export = console.get("/staff/inbox/nlu.yml")
    assert export.headers["content-disposition"].startswith("attachment")
    document = yaml.safe_load(export.text)
    examples = "".join(item["examples"] for item in document["nlu"])
    assert "- qqqq wwww\n" in examples
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().reads(export.text)
    assert "qqqq wwww" in {m.get("text") for m in data.training_examples}


def test_the_test_story_export_is_valid_and_has_no_personal_data(
    console: TestClient, real_conversations: RealConversations
):
    response = console.get(f"/staff/conversations/{real_conversations.booking}/story.yml")
    story = response.text
    for personal in ("Nora Quill", "Nora", "555-0177", "5550177", "nora.quill@example.org"):
        assert personal not in story, personal
    assert NAME_PLACEHOLDER in story and PHONE_PLACEHOLDER in story
    assert EMAIL_PLACEHOLDER in story
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    domain = Domain.load(str(ROOT / "domain.yml"))
    steps = YAMLStoryReader(domain).read_from_string(story)
    assert len(steps) == 1
    events = steps[0].events
    assert any(getattr(e, "action_name", None) == "booking_form" for e in events)
    assert yaml.safe_load(story)["stories"][0]["steps"][0]["intent"] == "book_appointment"


def test_bookings_newest_first_status_change_and_csv(
    console: TestClient, console_dbs: Tuple[Path, Path], real_conversations: RealConversations
):
    _, app_db = console_dbs
    engine = make_engine(f"sqlite:///{app_db}")
    hostile = BookingRequest(
        kind="callback",
        patient_name='=HYPERLINK("http://evil.example","click")',
        phone="+12025550199",
        callback_time="@SUM(1+1)",
        concern="-2+3",
    )
    reference, _ = save_request(make_session_factory(engine), hostile, "hostile-key")
    engine.dispose()
    page = console.get("/staff/bookings").text
    assert page.index(reference) < page.index("Nora Quill")  # newest first
    row = page.split("Nora Quill", 1)[1].split("</tr>", 1)[0]
    assert "stiff neck" in page and "Blood thinners</dt><dd>yes" in row.replace("\n", "")
    assert f"/staff/conversations/{real_conversations.booking}" in page
    booking_id = re.search(r'id="booking-(\d+)">\s*<td>[^<]*<br><span class="ref">RC-', page)
    ids = re.findall(
        r"/staff/bookings/(\d+)/status", page.split("Nora Quill", 1)[0].rsplit("<tr", 1)[1] + row
    )
    assert booking_id and ids
    csrf = page_csrf(console, "/staff/bookings")
    assert (
        console.post(f"/staff/bookings/{ids[0]}/status", data={"status": "confirmed"}).status_code
        == 403
    )
    done = console.post(
        f"/staff/bookings/{ids[0]}/status", data={"csrf": csrf, "status": "confirmed"}
    )
    assert done.status_code == 200
    row = done.text.split("Nora Quill", 1)[1].split("</tr>", 1)[0]
    assert 'status-confirmed">Confirmed' in row
    bad = console.post(f"/staff/bookings/{ids[0]}/status", data={"csrf": csrf, "status": "gone"})
    assert bad.status_code == 400
    exported = console.get("/staff/bookings.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    hostile_row = next(r for r in table if r["reference"] == reference)
    assert hostile_row["patient_name"].startswith("'=HYPERLINK")
    assert hostile_row["callback_time"] == "'@SUM(1+1)" and hostile_row["concern"] == "'-2+3"
    nora = next(r for r in table if r["patient_name"] == "Nora Quill")
    assert nora["status"] == "confirmed" and nora["phone"] == "'+12025550177"
    for cell in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert safe_cell(cell).startswith("'")


def test_the_audit_log_records_views_exports_and_changes(
    console: TestClient, make_settings: Callable[..., WebSettings], console_dbs, real_conversations
):
    console.get(f"/staff/conversations/{real_conversations.red_flag}")
    console.get("/staff/bookings.csv")
    csrf = page_csrf(console)
    console.post(f"/staff/conversations/{real_conversations.red_flag}/review", data={"csrf": csrf})
    tracker, app_db = console_dbs
    engine = make_engine(f"sqlite:///{app_db}")
    entries = queries.audit_entries(make_session_factory(engine))
    engine.dispose()
    actions = {(e.user_name, e.action, e.target) for e in entries}
    assert ("sam", "view_conversation", real_conversations.red_flag) in actions
    assert ("sam", "mark_reviewed", real_conversations.red_flag) in actions
    assert any(a == ("sam", "export_bookings_csv", "") for a in actions)
    assert any(action == "login" for _, action, _ in actions)


def test_the_index_catches_up_incrementally(console_dbs: Tuple[Path, Path]):
    tracker, app_db = console_dbs
    engine = make_engine(f"sqlite:///{app_db}")
    ro = make_read_only_engine(f"sqlite:///{tracker}", ROOT)
    indexer = ConversationIndexer(make_session_factory(engine), ro)
    assert indexer.sync() > 0
    assert indexer.sync() == 0  # nothing new: nothing read
    engine.dispose()
    ro.dispose()
