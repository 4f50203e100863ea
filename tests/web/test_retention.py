"""Retention: ``python -m clinic purge`` and the web app's daily task delete conversations and
booking requests older than ``retention_days``; nothing older survives, nothing newer is lost.
Run on a copy of the tracker store and app database of real conversations."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable, Tuple

import pytest
from starlette.testclient import TestClient

from clinic.console.index import ConversationIndexer
from clinic.console.retention import purge, tracker_engine
from clinic.db.engine import make_engine, make_session_factory
from clinic.web.app import create_app
from clinic.web.history import make_read_only_engine
from clinic.web.settings import WebSettings

from .conftest import RealConversations

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def last_event_per_sender(tracker: Path) -> dict[str, float]:
    with sqlite3.connect(tracker) as db:
        return dict(db.execute("SELECT sender_id, MAX(timestamp) FROM events GROUP BY sender_id"))


def test_purge_deletes_exactly_what_is_older_than_retention(
    console_dbs: Tuple[Path, Path], real_conversations: RealConversations
):
    tracker, app_db = console_dbs
    before = last_event_per_sender(tracker)
    with sqlite3.connect(tracker) as db:
        counts = dict(db.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id"))
    # the cut-off between the red-flag conversation and the one after it (run in that order)
    red_last = before[real_conversations.red_flag]
    with sqlite3.connect(tracker) as db:
        later_first = db.execute(
            "SELECT MIN(timestamp) FROM events WHERE sender_id = ?", (real_conversations.unsure,)
        ).fetchone()[0]
    cutoff = (red_last + later_first) / 2
    days = 30
    engine = make_engine(f"sqlite:///{app_db}")
    sessions = make_session_factory(engine)
    ro = make_read_only_engine(f"sqlite:///{tracker}", ROOT)
    ConversationIndexer(sessions, ro).sync()  # the console has its rows about them, too
    with sqlite3.connect(app_db) as db:
        bookings_before = db.execute("SELECT COUNT(*) FROM bookings").fetchone()[0]
        db.execute(
            "UPDATE bookings SET created_at = '2000-01-01 00:00:00.000000'"
            " WHERE conversation_id != ?",
            (real_conversations.booking,),
        )
        old_bookings = db.execute(
            "SELECT COUNT(*) FROM bookings WHERE conversation_id != ?",
            (real_conversations.booking,),
        ).fetchone()[0]
    writer = tracker_engine(f"sqlite:///{tracker}", ROOT)
    result = purge(sessions, writer, days, now=cutoff + days * 86_400)
    writer.dispose()

    after = last_event_per_sender(tracker)
    older = {s for s, last in before.items() if last < cutoff}
    newer = {s for s, last in before.items() if last >= cutoff}
    assert real_conversations.red_flag in older and real_conversations.plain in older
    assert real_conversations.booking in newer
    assert not older & set(after), "an old conversation survived"
    assert set(after) == newer, "a newer conversation was lost"
    with sqlite3.connect(tracker) as db:
        for sender in newer:  # every event of a newer one is still there
            kept = db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,))
            assert kept.fetchone()[0] == counts[sender]
    assert result.conversations == len(older)
    with sqlite3.connect(app_db) as db:
        left = {row[0] for row in db.execute("SELECT conversation_id FROM bookings")}
        assert left == {real_conversations.booking}
        assert result.bookings == old_bookings == bookings_before - 1
        index = {row[0] for row in db.execute("SELECT sender_id FROM conversation_index")}
        assert not index & older and real_conversations.booking in index
    engine.dispose()
    ro.dispose()


def test_the_web_app_runs_retention_on_its_own(
    make_settings: Callable[..., WebSettings], console_dbs: Tuple[Path, Path], clinic
):
    tracker, app_db = console_dbs
    old_sender = "very-old-conversation"
    with sqlite3.connect(tracker) as db:
        db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
            (old_sender, time.time() - 400 * 86_400, '{"event": "user", "text": "hi"}'),
        )
    newer = set(last_event_per_sender(tracker)) - {old_sender}
    settings = make_settings(
        clinic=clinic.copy(update={"retention_days": 365}),
        tracker_store_url=f"sqlite:///{tracker}",
        database_url=f"sqlite:///{app_db}",
        retention_interval_s=0.2,
    )
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while old_sender in last_event_per_sender(tracker) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert set(last_event_per_sender(tracker)) == newer
