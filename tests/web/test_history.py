"""GET /api/chat/history: the cookie's transcript, read-only from Rasa's tracker store."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, List

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from clinic.settings import PROJECT_ROOT
from clinic.web.app import create_app
from clinic.web.history import make_read_only_engine, read_only_url, transcript_from_events
from clinic.web.sessions import new_session_id, sender_id

from .conftest import ORIGIN

BUTTONS = [
    {"title": "Will I be sore?", "payload": "/ask_soreness"},
    {"title": "Book a consultation", "payload": "/book_appointment"},
]


async def store_conversation(db: Path, sender: str, events: List[Any]) -> None:
    """Writes events with Rasa's own SQL tracker store, as the Rasa server does."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from clinic.tracker_store import UrlSQLTrackerStore

    store = UrlSQLTrackerStore(domain=Domain.empty(), host=f"sqlite:///{db}")
    await store.save(DialogueStateTracker.from_events(sender, events))


def conversation() -> List[Any]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        UserUttered("an older session's message"),
        BotUttered("an older answer"),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("is dry needling safe?"),
        BotUttered("Generally **safe**.", data={"buttons": BUTTONS}),
        ActionExecuted("action_listen"),
        UserUttered("/ask_soreness"),
        BotUttered("Sore for a day or two."),
        UserUttered("crushing chest pain"),
        BotUttered("Call 911 now.", data={"custom": {"urgent": True}}),
    ]


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


async def test_the_transcript_of_the_cookies_session_is_read_from_the_tracker_store(
    make_settings, tracker_db: Path
):
    session = new_session_id()
    await store_conversation(tracker_db, sender_id(session), conversation())
    await store_conversation(tracker_db, sender_id(new_session_id()), conversation()[:4])
    app = create_app(make_settings(tracker_store_url=f"sqlite:///{tracker_db}"))
    with TestClient(app, base_url=ORIGIN) as client:
        client.cookies.set("clinic_chat", session)
        response = client.get("/api/chat/history")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["messages"] == [
        {"sender": "user", "text": "is dry needling safe?", "buttons": [], "urgent": False},
        {"sender": "bot", "text": "Generally **safe**.", "buttons": BUTTONS, "urgent": False},
        # the clicked quick reply shows its title, as it did in the widget
        {"sender": "user", "text": "Will I be sore?", "buttons": [], "urgent": False},
        {"sender": "bot", "text": "Sore for a day or two.", "buttons": [], "urgent": False},
        {"sender": "user", "text": "crushing chest pain", "buttons": [], "urgent": False},
        {"sender": "bot", "text": "Call 911 now.", "buttons": [], "urgent": True},
    ]


def test_without_a_session_cookie_the_transcript_is_empty_and_no_session_is_made(make_settings):
    with TestClient(create_app(make_settings()), base_url=ORIGIN) as client:
        response = client.get("/api/chat/history")
    assert response.json() == {"messages": []}
    assert "set-cookie" not in response.headers


def test_before_rasas_first_conversation_the_transcript_is_empty(make_settings, tracker_db):
    assert not tracker_db.exists()
    with TestClient(create_app(make_settings()), base_url=ORIGIN) as client:
        client.cookies.set("clinic_chat", new_session_id())
        response = client.get("/api/chat/history")
    assert response.status_code == 200
    assert response.json() == {"messages": []}
    assert not tracker_db.exists()  # read-only: the gateway never creates the store


def test_an_unreadable_tracker_store_gets_an_apology_not_a_stack_trace(make_settings, tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    app = create_app(make_settings(tracker_store_url=f"sqlite:///{broken}"))
    with TestClient(app, base_url=ORIGIN) as client:
        client.cookies.set("clinic_chat", new_session_id())
        response = client.get("/api/chat/history")
    assert response.status_code == 503
    assert response.json()["messages"] == []
    assert "call" in response.json()["error"]


async def test_the_gateways_connection_to_the_tracker_store_cannot_write(tracker_db: Path):
    await store_conversation(tracker_db, "someone", conversation())
    engine = make_read_only_engine(f"sqlite:///{tracker_db}", PROJECT_ROOT)
    try:
        with pytest.raises(OperationalError, match="readonly"), engine.begin() as connection:
            connection.execute(text("DELETE FROM events"))
    finally:
        engine.dispose()
    with sqlite3.connect(tracker_db) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] > 0


def test_relative_sqlite_paths_are_taken_from_the_project_root():
    url = read_only_url("sqlite:///var/tracker.db", PROJECT_ROOT)
    assert url.database == f"file:{PROJECT_ROOT / 'var' / 'tracker.db'}?mode=ro"
    assert url.query == {"uri": "true"}
    postgres = read_only_url("postgresql://rasa:pw@127.0.0.1/tracker", PROJECT_ROOT)
    assert postgres.database == "tracker"


def test_a_typed_payload_that_was_not_offered_shows_as_typed():
    rows = [
        ("user", '{"text": "/ask_safety"}'),
        ("bot", '{"text": "Safe.", "data": {"buttons": []}}'),
        ("user", '{"text": "/ask_soreness"}'),
        ("bot", '{"text": null, "data": {"custom": {"urgent": true}}}'),
        ("bot", "not json"),
    ]
    transcript = transcript_from_events(rows)
    assert [m["text"] for m in transcript] == ["/ask_safety", "Safe.", "/ask_soreness"]
    assert not any(m["urgent"] for m in transcript)  # a custom message after a user's: ignored


def test_a_custom_only_urgent_event_marks_the_bot_text_before_it():
    rows = [
        ("user", '{"text": "chest pain"}'),
        ("bot", '{"text": "Call 911 now."}'),
        ("bot", '{"text": null, "data": {"custom": {"urgent": true}}}'),
    ]
    assert [m["urgent"] for m in transcript_from_events(rows)] == [False, True]


async def test_an_answer_read_back_from_the_tracker_store_keeps_its_source_line(
    make_settings, tracker_db: Path
):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

    session = new_session_id()
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("who invented dry needling?"),
        BotUttered("Dr. Janet Travell.", data={"custom": {"source": "Article A"}}),
        BotUttered("Anything else?"),
        BotUttered(None, data={"custom": {"source": "Article B"}}),
    ]
    await store_conversation(tracker_db, sender_id(session), events)
    app = create_app(make_settings(tracker_store_url=f"sqlite:///{tracker_db}"))
    with TestClient(app, base_url=ORIGIN) as client:
        client.cookies.set("clinic_chat", session)
        messages = client.get("/api/chat/history").json()["messages"]
    assert [(m["text"], m.get("source")) for m in messages] == [
        ("who invented dry needling?", None),
        ("Dr. Janet Travell.", "Article A"),
        ("Anything else?", "Article B"),
    ]
