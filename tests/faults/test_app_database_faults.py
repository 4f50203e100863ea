"""The app database locked by another connection while a booking is saved.

``BEGIN EXCLUSIVE`` from a second SQLite connection keeps the action server from even
reading the file. The save waits the action server's short busy timeout
(``actions.store.BUSY_TIMEOUT_MS``), rolls back, and the visitor is told, with the
clinic's phone number; nothing of the request is kept. Once the lock is gone the next
booking in the same conversation is saved.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .conftest import CLINIC, FaultStack, Visitor, bot_text, fill_booking_form, summary


@contextmanager
def locked(database: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the whole SQLite file locked: no reads, no writes."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield connection
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def book_up_to_summary(visitor: Visitor, first: str, when: str) -> str:
    """``first`` starts the booking form; its questions are answered up to the summary."""
    reply = visitor.say(first)[-1]
    assert reply == bot_text("utter_ask_patient_name")
    return fill_booking_form(
        visitor, reply, patient_name="Bo Chen", phone="(202) 555-0188", preferred_start=when
    )


def test_a_booking_saved_while_the_database_is_locked_is_told_with_the_phone_and_leaves_no_row(
    faults: FaultStack,
):
    visitor = faults.visitor()
    first = book_up_to_summary(visitor, "i'd like to book an appointment", "next thursday at 11am")
    assert first == summary(faults, visitor.sender)

    with locked(faults.app_db) as lock:
        reply = visitor.post("yes")
        rows_while_locked = lock.execute(
            "SELECT count(*) FROM bookings WHERE conversation_id = ?", (visitor.sender,)
        ).fetchone()[0]
    assert reply.status_code == 200
    [message] = reply.json()["messages"]
    assert message["text"] == bot_text("utter_booking_save_failed")
    assert CLINIC.phone in message["text"]
    assert rows_while_locked == 0
    assert faults.bookings(visitor.sender) == []
    assert faults.slots(visitor.sender).get("booking_reference") is None

    # the lock is gone: the button the reply offers starts a new request, which is saved
    assert "/book_appointment" in [button["payload"] for button in message["buttons"]]
    again = book_up_to_summary(visitor, "/book_appointment", "next thursday at 11am")
    assert again == summary(faults, visitor.sender)
    saved = visitor.say("yes")
    [booking] = faults.bookings(visitor.sender)
    assert (booking["patient_name"], booking["phone"]) == ("Bo Chen", "+12025550188")
    assert saved[0] == bot_text(
        "utter_booking_saved", patient_name="Bo Chen", booking_reference=booking["reference"]
    )
