"""``python -m clinic forget``: one person's bookings, conversations (Rasa's own tracker store,
written by ``UrlSQLTrackerStore``) and the console's rows about them are found, exported and
deleted, audited without health details; everyone else's stay; bad input changes nothing.
Real SQLite files for the app database and the tracker store; one test on a throw-away
PostgreSQL server (``bench/services.py``, a few seconds; skipped without Debian's packages,
failed under CI)."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest
import sqlalchemy as sa

from bench.services import Postgres, create_database
from clinic.alerts.outbox import add_alert
from clinic.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from clinic.db.engine import make_engine, make_session_factory
from clinic.db.migrate import upgrade
from clinic.db.models import (
    Booking,
    ConversationIndex,
    ConversationIntent,
    ConversationReview,
    ConversationTag,
    InboxMessage,
)
from clinic.tracker_store import UrlSQLTrackerStore

# Jane: a booking and a call-back, in two conversations; Bob: one booking; and a
# conversation with no request at all.
JANE_PHONE, JANE_EMAIL = "+12025550143", "Jane.Doe@example.com"
JANE_CONCERN = "sciatica down my left leg since the fall"
CONVERSATIONS: Dict[str, List[str]] = {
    "conv-jane": ["my back hurts", JANE_CONCERN],
    "conv-jane-2": ["please call me back"],
    "conv-bob": ["i want to book", "neck pain"],
    "conv-anon": ["is dry needling safe?"],
}
JANE_CONVERSATIONS = {"conv-jane", "conv-jane-2"}


@dataclass
class Stores:
    app_db: Path
    tracker_db: Path

    def run(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["--database-url", f"sqlite:///{self.app_db}", *args], io.StringIO(stdin), out, err
        )
        return code, out.getvalue(), err.getvalue()


def snapshot(path: Path) -> Dict[str, List[tuple]]:
    """Every row of every table, to compare before and after."""
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {table: sorted(db.execute(f'SELECT * FROM "{table}"'), key=repr) for table in tables}


def events_per_sender(tracker_db: Path) -> Dict[str, int]:
    with sqlite3.connect(tracker_db) as db:
        return dict(db.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id"))


def rows(app_db: Path, query: str, *params: object) -> List[tuple]:
    with sqlite3.connect(app_db) as db:
        return list(db.execute(query, params))


def write_conversations(url: str) -> None:
    """The four conversations, written by Rasa's SQL tracker store."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = UrlSQLTrackerStore(domain=Domain.empty(), host=url)
    for sender, texts in CONVERSATIONS.items():
        events = []
        for text in texts:
            events += [UserUttered(text), BotUttered(f"answer to {text}")]
        tracker = DialogueStateTracker.from_events(sender, events)
        # in a thread of its own: a session's browser tests keep an event loop running here
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, store.save(tracker)).result()
    store.engine.dispose()


@pytest.fixture(scope="module")
def template_tracker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "tracker.db"
    write_conversations(f"sqlite:///{path}")
    return path


def booking(reference: str, kind: str, name: str, phone: str, email: str | None, conversation: str):
    return Booking(
        reference=reference,
        kind=kind,
        patient_name=name,
        phone=phone,
        email=email,
        preferred_start="2026-12-07T10:00:00-05:00" if kind == "booking" else None,
        callback_time="after 5pm" if kind == "callback" else None,
        concern=JANE_CONCERN if name == "Jane Doe" else "neck pain",
        new_patient=True,
        pregnant=name == "Jane Doe",
        conversation_id=conversation,
        idempotency_key=f"key-{reference}",
    )


def fill_app_db(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        session.add_all(
            [
                booking("RC-AAAAAA", "booking", "Jane Doe", JANE_PHONE, JANE_EMAIL, "conv-jane"),
                booking("RC-BBBBBB", "callback", "Jane Doe", JANE_PHONE, None, "conv-jane-2"),
                booking("RC-CCCCCC", "booking", "Bob Roe", "+12025550188", "bob@x.org", "conv-bob"),
            ]
        )
        for kind, reference in (
            ("booking", "RC-AAAAAA"),
            ("red_flag", "conv-jane"),
            ("booking", "RC-CCCCCC"),
            ("red_flag", "conv-bob"),
        ):
            add_alert(session, kind, reference, f"/staff/{reference}")
        for number, sender in enumerate(CONVERSATIONS, start=1):
            session.add(ConversationIndex(sender_id=sender, started_at=1.0, last_at=2.0, turns=1))
            session.add(ConversationIntent(conversation_id=sender, intent="back_pain"))
            session.add(ConversationTag(conversation_id=sender, tag="follow up"))
            session.add(
                ConversationReview(conversation_id=sender, note=f"note {sender}", note_by="amy")
            )
            session.add(InboxMessage(event_id=number, conversation_id=sender, at=1.0, text="hm"))
        session.commit()
    engine.dispose()


@pytest.fixture
def stores(tmp_path: Path, template_tracker: Path, monkeypatch: pytest.MonkeyPatch) -> Stores:
    tracker_db = shutil.copy(template_tracker, tmp_path / "tracker.db")
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tracker_db}")
    app_db = tmp_path / "clinic.db"
    fill_app_db(f"sqlite:///{app_db}")
    return Stores(app_db, Path(tracker_db))


def assert_only_jane_is_gone(stores: Stores, before_events: Dict[str, int]) -> None:
    after = events_per_sender(stores.tracker_db)
    assert not JANE_CONVERSATIONS & set(after), "an event of Jane's survived"
    assert after == {s: n for s, n in before_events.items() if s not in JANE_CONVERSATIONS}
    assert rows(stores.app_db, "SELECT reference FROM bookings") == [("RC-CCCCCC",)]
    for table, column in (
        ("conversation_index", "sender_id"),
        ("conversation_intents", "conversation_id"),
        ("conversation_tags", "conversation_id"),
        ("conversation_reviews", "conversation_id"),
        ("inbox_messages", "conversation_id"),
    ):
        left = {row[0] for row in rows(stores.app_db, f"SELECT {column} FROM {table}")}
        assert left == {"conv-bob", "conv-anon"}, table
    alerts = {row[0] for row in rows(stores.app_db, "SELECT reference FROM staff_alerts")}
    assert alerts == {"RC-CCCCCC", "conv-bob"}


def test_forget_by_phone_deletes_every_row_and_event_of_that_person_and_keeps_everyone_elses(
    stores: Stores,
):
    before = events_per_sender(stores.tracker_db)
    assert JANE_CONVERSATIONS <= set(before)
    code, out, _ = stores.run("forget", "--phone", "(202) 555-0143", "--yes")
    assert code == EXIT_OK, out
    assert_only_jane_is_gone(stores, before)


def test_forget_by_email_matches_the_address_whatever_its_case(stores: Stores):
    before = events_per_sender(stores.tracker_db)
    code, _, _ = stores.run("forget", "--email", "JANE.DOE@Example.COM", "--yes")
    assert code == EXIT_OK
    after = events_per_sender(stores.tracker_db)
    # the e-mail is only on the booking: its conversation goes, the call-back (no e-mail) stays
    assert "conv-jane" not in after and after["conv-jane-2"] == before["conv-jane-2"]
    assert rows(stores.app_db, "SELECT reference FROM bookings ORDER BY reference") == [
        ("RC-BBBBBB",),
        ("RC-CCCCCC",),
    ]


def test_forget_by_reference_takes_its_request_and_its_conversation(stores: Stores):
    code, out, _ = stores.run("forget", "--reference", "rc-bbbbbb", "--yes")
    assert code == EXIT_OK, out
    assert "conv-jane-2" not in events_per_sender(stores.tracker_db)
    assert "conv-jane" in events_per_sender(stores.tracker_db)
    assert ("RC-BBBBBB",) not in rows(stores.app_db, "SELECT reference FROM bookings")


def test_forget_by_conversation_deletes_a_conversation_without_requests(stores: Stores):
    before = events_per_sender(stores.tracker_db)
    code, _, _ = stores.run("forget", "--conversation", "conv-anon", "--yes")
    assert code == EXIT_OK
    after = events_per_sender(stores.tracker_db)
    assert "conv-anon" not in after and len(after) == len(before) - 1
    assert not rows(
        stores.app_db, "SELECT 1 FROM conversation_reviews WHERE conversation_id = ?", "conv-anon"
    )
    assert len(rows(stores.app_db, "SELECT 1 FROM bookings")) == 3


def test_the_export_holds_everything_that_was_deleted_and_only_its_owner_reads_it(
    stores: Stores, tmp_path: Path
):
    before = events_per_sender(stores.tracker_db)
    export = tmp_path / "jane.json"
    code, _, _ = stores.run("forget", "--phone", JANE_PHONE, "--export", str(export), "--yes")
    assert code == EXIT_OK
    assert export.stat().st_mode & 0o777 == 0o600
    document = json.loads(export.read_text(encoding="utf-8"))
    tables = document["tables"]
    assert {b["reference"] for b in tables["bookings"]} == {"RC-AAAAAA", "RC-BBBBBB"}
    assert {b["concern"] for b in tables["bookings"]} == {JANE_CONCERN}
    assert len(tables["events"]) == before["conv-jane"] + before["conv-jane-2"]
    texts = {e["data"].get("text") for e in tables["events"]}
    assert JANE_CONCERN in texts and "neck pain" not in texts
    assert {r["note"] for r in tables["conversation_reviews"]} == {
        "note conv-jane",
        "note conv-jane-2",
    }
    assert set(document["conversation_ids"]) == JANE_CONVERSATIONS


def test_the_audit_row_names_references_and_counts_and_no_personal_or_health_detail(
    stores: Stores,
):
    code, _, _ = stores.run("forget", "--phone", JANE_PHONE, "--yes")
    assert code == EXIT_OK
    ((user, action, target, detail),) = rows(
        stores.app_db, "SELECT user_name, action, target, detail FROM staff_audit"
    )
    assert user.startswith("cli") and action == "forget"
    assert "RC-AAAAAA" in target and "RC-BBBBBB" in target and "bookings=2" in detail
    audit_text = f"{target} {detail}".lower()
    for secret in (JANE_PHONE, "202", "jane", "sciatica", "pregnan", "back", "note conv"):
        assert secret not in audit_text, secret


def test_answering_no_changes_nothing_and_the_listing_shows_no_health_detail(stores: Stores):
    app_before, tracker_before = snapshot(stores.app_db), snapshot(stores.tracker_db)
    code, out, _ = stores.run("forget", "--phone", JANE_PHONE, stdin="n\n")
    assert code == EXIT_REFUSED and "nothing was deleted" in out
    assert "bookings: 2" in out and "RC-AAAAAA" in out and "conv-jane-2" in out
    assert "sciatica" not in out and "Jane Doe" not in out
    assert snapshot(stores.app_db) == app_before
    assert snapshot(stores.tracker_db) == tracker_before


def test_answering_yes_on_the_prompt_deletes(stores: Stores):
    before = events_per_sender(stores.tracker_db)
    code, out, _ = stores.run("forget", "--phone", JANE_PHONE, stdin="y\n")
    assert code == EXIT_OK and "Delete" in out
    assert_only_jane_is_gone(stores, before)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--phone", "12ab34"], "not a phone number"),
        (["--phone", "555"], "not a phone number"),
        (["--email", "jane@"], "not an e-mail address"),
        (["--reference", "RC-1"], "not a booking reference"),
        (["--reference", "RC-ZZZZZZ"], "no booking or call-back request has the reference"),
    ],
)
def test_bad_input_gets_a_specific_message_exit_2_and_changes_nothing(
    stores: Stores, args: List[str], message: str
):
    app_before, tracker_before = snapshot(stores.app_db), snapshot(stores.tracker_db)
    code, out, err = stores.run("forget", *args, "--yes")
    assert code == EXIT_USAGE and message in err and "nothing was deleted" in err
    assert snapshot(stores.app_db) == app_before
    assert snapshot(stores.tracker_db) == tracker_before


def test_two_selectors_or_none_are_refused_with_exit_2_and_change_nothing(
    stores: Stores, capsys: pytest.CaptureFixture[str]
):
    app_before, tracker_before = snapshot(stores.app_db), snapshot(stores.tracker_db)
    for args in (["--phone", JANE_PHONE, "--email", JANE_EMAIL], []):
        with pytest.raises(SystemExit) as exit_:
            stores.run("forget", *args, "--yes")
        assert exit_.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "not allowed with argument" in err and "one of the arguments" in err
    assert snapshot(stores.app_db) == app_before
    assert snapshot(stores.tracker_db) == tracker_before


def test_an_existing_export_file_is_not_overwritten_and_nothing_is_deleted(
    stores: Stores, tmp_path: Path
):
    export = tmp_path / "taken.json"
    export.write_text("keep me")
    app_before = snapshot(stores.app_db)
    code, _, err = stores.run("forget", "--phone", JANE_PHONE, "--export", str(export), "--yes")
    assert code == EXIT_USAGE and "already exists" in err
    assert export.read_text() == "keep me" and snapshot(stores.app_db) == app_before


def test_nothing_found_says_so_exits_0_and_writes_no_audit_row(stores: Stores):
    app_before, tracker_before = snapshot(stores.app_db), snapshot(stores.tracker_db)
    for args in (["--phone", "+12025550199"], ["--conversation", "nobody-here"]):
        code, out, _ = stores.run("forget", *args, "--yes")
        assert code == EXIT_OK and "nothing is stored" in out
    assert snapshot(stores.app_db) == app_before
    assert snapshot(stores.tracker_db) == tracker_before


def test_forget_on_postgresql_deletes_that_person_in_both_databases_and_keeps_the_rest(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch
):
    tracker_url = create_database(postgres, "tracker")
    app_url = create_database(postgres, "clinic")
    write_conversations(tracker_url)
    fill_app_db(app_url)
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)

    def query(url: str, sql: str) -> List[tuple]:
        engine = sa.create_engine(url, future=True)
        with engine.connect() as connection:
            result = [tuple(row) for row in connection.execute(sa.text(sql))]
        engine.dispose()
        return result

    count_events = "SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id"
    before = dict(query(tracker_url, count_events))
    out, err = io.StringIO(), io.StringIO()
    args = ["--database-url", app_url, "forget", "--email", "jane.doe@EXAMPLE.com", "--yes"]
    assert main(args, io.StringIO(""), out, err) == EXIT_OK, err.getvalue()
    after = dict(query(tracker_url, count_events))
    assert after == {s: n for s, n in before.items() if s != "conv-jane"}
    references = query(app_url, "SELECT reference FROM bookings ORDER BY reference")
    assert references == [("RC-BBBBBB",), ("RC-CCCCCC",)]
    notes = query(app_url, "SELECT conversation_id FROM conversation_reviews ORDER BY 1")
    assert notes == [("conv-anon",), ("conv-bob",), ("conv-jane-2",)]
    ((action, target),) = query(app_url, "SELECT action, target FROM staff_audit")
    assert action == "forget" and "RC-AAAAAA" in target and "jane" not in target.lower()
