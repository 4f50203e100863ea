"""Booking and call-back actions: exact events, responses, and rows in a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions import booking, store
from actions.booking import (
    ActionStartBooking,
    ActionStartCallback,
    ActionSubmitBooking,
    ActionSubmitCallback,
    ValidateBookingForm,
    check_preferred_start,
)

from .conftest import make_tracker

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Wednesday


@pytest.fixture(autouse=True)
def app_database(booking_database: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(booking, "now", lambda: NOW)
    return booking_database


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT kind, patient_name, phone, email, preferred_start, concern, new_patient,"
            " pregnant, blood_thinners, needle_fear, status, conversation_id FROM bookings"
        ).fetchall()


def responses(dispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


BOOKING_SLOTS = {
    "booking_attempt": "a1",
    "patient_name": "Ann Lee",
    "phone": "+12025550123",
    "email": "none",
    "preferred_start": "2026-11-24T14:00:00-05:00",
    "preferred_start_text": "Tuesday 24 November at 14:00",
    "concern": "lower back pain",
    "visited_before": False,
    "pregnant": False,
    "blood_thinners": True,
    "needle_fear": None,
    "booking_confirmed": "yes",
}


async def test_starting_a_booking_clears_the_last_answers_but_keeps_the_concern(dispatcher, domain):
    events = await ActionStartBooking().run(dispatcher, make_tracker(), domain)
    attempt = events[0]
    assert attempt["name"] == "booking_attempt" and len(attempt["value"]) == 32
    assert events[1:] == [SlotSet(slot, None) for slot in booking.BOOKING_SLOTS]
    assert "concern" not in booking.BOOKING_SLOTS
    assert responses(dispatcher) == ["utter_book_appointment"]


@pytest.mark.parametrize(
    ("text", "slot", "expected"),
    [
        ("my name is Ann Lee", "patient_name", "Ann Lee"),
        ("R2-D2", "patient_name", None),
        ("(202) 555-0123", "phone", "+12025550123"),
        ("call me maybe", "phone", None),
        ("Ann.Lee@Example.ORG", "email", "Ann.Lee@example.org"),
        ("none", "email", "none"),
        ("ann@", "email", None),
    ],
)
async def test_contact_answers_are_normalised_or_refused(dispatcher, domain, text, slot, expected):
    validate = getattr(ValidateBookingForm(), f"validate_{slot}")
    assert validate(text, dispatcher, make_tracker(text, "inform"), domain) == {slot: expected}
    if expected is None:
        assert responses(dispatcher) == [f"utter_booking_invalid_{slot.replace('patient_', '')}"]
    else:
        assert dispatcher.messages == []


def test_a_clear_open_time_is_taken_with_its_display_text(clinic):
    slots, response, _ = check_preferred_start("next tuesday at 2pm", clinic, NOW)
    assert response is None
    assert slots == {
        "preferred_start": "2026-11-24T14:00:00-05:00",
        "preferred_start_text": "Tuesday 24 November at 14:00",
        "preferred_day": None,
    }


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("sunday at 10am", "utter_booking_time_closed_day"),
        ("friday at 7pm", "utter_booking_time_outside_hours"),
        ("yesterday at 10am", "utter_booking_time_past"),
        ("march 30 2027 at 10am", "utter_booking_time_too_far_ahead"),
        ("next week", "utter_booking_time_vague_day"),
        ("blah blah", "utter_booking_time_unparseable"),
    ],
)
def test_times_the_clinic_cannot_take_get_a_specific_reply(clinic, text, response):
    slots, got, values = check_preferred_start(text, clinic, NOW)
    assert got == response
    assert slots["preferred_start"] is None
    if response.endswith(("closed_day", "outside_hours", "past", "too_far_ahead")):
        assert values["booking_suggestions"].count(" at ") == 3


def test_a_day_without_a_time_is_remembered_and_completed_by_the_next_answer(clinic):
    slots, response, values = check_preferred_start("monday morning", clinic, NOW)
    assert response == "utter_booking_time_vague_time"
    assert slots["preferred_day"] == "2026-11-23"
    assert values == {"preferred_day": "Monday 23 November"}
    slots, response, _ = check_preferred_start(
        "10am", clinic, NOW, day=datetime.fromisoformat("2026-11-23").date()
    )
    assert response is None and slots["preferred_start"] == "2026-11-23T10:00:00-05:00"


async def test_a_full_slot_offers_the_nearest_free_times(dispatcher, domain, app_database):
    tracker = make_tracker(slots={**BOOKING_SLOTS, "booking_attempt": "first"})
    await ActionSubmitBooking().run(dispatcher, tracker, domain)
    slots, response, values = check_preferred_start(
        "next tuesday at 2pm", booking.load_clinic(), NOW
    )
    assert response == "utter_booking_time_slot_full"
    assert "Tuesday 24 November at 14:00" not in values["booking_suggestions"]
    assert "Tuesday 24 November at 13:45" in values["booking_suggestions"]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("yes send it", "affirm", {"booking_confirmed": "yes"}),
        (
            "change the time to 3pm",
            "inform",
            {
                "preferred_start": "2026-11-24T15:00:00-05:00",
                "preferred_start_text": "Tuesday 24 November at 15:00",
                "preferred_day": None,
                "booking_confirmed": None,
            },
        ),
        ("my phone number is wrong", "inform", {"phone": None, "booking_confirmed": None}),
        (
            "the email should be ann@example.org",
            "inform",
            {"email": "ann@example.org", "booking_confirmed": None},
        ),
        ("no", "deny", {"booking_confirmed": None}),
    ],
)
async def test_the_summary_is_confirmed_or_corrected(dispatcher, domain, text, intent, expected):
    tracker = make_tracker(text, intent, slots={**BOOKING_SLOTS, "booking_confirmed": None})
    result = ValidateBookingForm().validate_booking_confirmed(text, dispatcher, tracker, domain)
    assert result == expected
    if text == "no":
        assert responses(dispatcher) == ["utter_booking_what_to_change"]


async def test_a_confirmed_booking_is_saved_once_with_its_answers(dispatcher, domain, app_database):
    tracker = make_tracker(slots=BOOKING_SLOTS)
    first = await ActionSubmitBooking().run(dispatcher, tracker, domain)
    again = await ActionSubmitBooking().run(dispatcher, tracker, domain)
    assert first == again and first[0]["name"] == "booking_reference"
    assert first[0]["value"].startswith("RC-")
    assert rows(app_database) == [
        (
            "booking",
            "Ann Lee",
            "+12025550123",
            None,
            "2026-11-24T14:00:00-05:00",
            "lower back pain",
            1,
            0,
            1,
            None,
            "requested",
            "test-sender",
        )
    ]
    assert responses(dispatcher) == ["utter_booking_saved", "utter_booking_saved"]
    assert dispatcher.messages[0]["booking_reference"] == first[0]["value"]


async def test_a_callback_request_is_saved_as_a_callback(dispatcher, domain, app_database):
    slots = {"booking_attempt": "c1", "patient_name": "Bo Chen", "phone": "+12025550188"}
    tracker = make_tracker(slots={**slots, "callback_time": "weekday mornings"})
    events = await ActionSubmitCallback().run(dispatcher, tracker, domain)
    assert events[0]["name"] == "booking_reference"
    assert [row[:3] for row in rows(app_database)] == [("callback", "Bo Chen", "+12025550188")]
    assert responses(dispatcher) == ["utter_callback_saved"]


async def test_an_unwritable_database_is_told_to_the_person_and_nothing_is_kept(
    dispatcher, domain, tmp_path, monkeypatch
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker}/clinic.db")
    store._session_factory.cache_clear()
    events = await ActionSubmitBooking().run(dispatcher, make_tracker(slots=BOOKING_SLOTS), domain)
    assert events == []
    assert responses(dispatcher) == ["utter_booking_save_failed"]


@pytest.mark.parametrize(
    "slot", ["patient_name", "phone", "email", "preferred_start", "concern", "booking_confirmed"]
)
def test_slots_cleared_when_the_form_starts_pass_validation_silently(dispatcher, domain, slot):
    validate = getattr(ValidateBookingForm(), f"validate_{slot}")
    assert validate(None, dispatcher, make_tracker(), domain) == {slot: None}
    assert dispatcher.messages == []


def test_the_day_of_a_time_being_typed_is_not_mistaken_for_a_stored_one(dispatcher, domain):
    tracker = make_tracker(
        "next tuesday at 2pm", "inform", slots={"preferred_start": "next tuesday at 2pm"}
    )
    result = ValidateBookingForm().validate_preferred_start(
        "next tuesday at 2pm", dispatcher, tracker, domain
    )
    assert result["preferred_start"] == "2026-11-24T14:00:00-05:00"


def test_the_action_server_start_check_stops_with_one_line_naming_the_path(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker}/clinic.db")
    with pytest.raises(SystemExit) as stopped:
        store.require_writable_database()
    message = str(stopped.value.code)
    assert message.startswith(f"the action server cannot start: DATABASE_URL names {blocker}/")
    assert "\n" not in message
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fine' / 'clinic.db'}")
    store.require_writable_database()  # a writable location passes


@pytest.mark.parametrize(
    ("text", "intent"),
    [("yes", "affirm"), ("ok", "affirm"), ("hello", "greet"), ("my back hurts", "back_pain")],
)
def test_a_reply_that_is_no_name_is_not_stored_and_gets_the_name_hint(
    dispatcher, domain, text, intent
):
    result = ValidateBookingForm().validate_patient_name(
        text, dispatcher, make_tracker(text, intent), domain
    )
    assert result == {"patient_name": None}
    assert responses(dispatcher) == ["utter_booking_not_a_name"]


@pytest.mark.parametrize(
    ("text", "intent", "name"),
    [
        ("Cy Park", "ask_clinic_info", "Cy Park"),
        ("it's faith price", "ask_clinic_info", "faith price"),
        ("My name is Philippa Greenhalgh", "ask_suitability", "Philippa Greenhalgh"),
    ],
)
def test_a_name_that_sounds_like_a_topic_is_stored_in_both_forms(
    dispatcher, domain, text, intent, name
):
    for form in (ValidateBookingForm(), booking.ValidateCallbackForm()):
        tracker = make_tracker(text, intent)
        assert form.validate_patient_name(text, dispatcher, tracker, domain) == {
            "patient_name": name
        }
    assert dispatcher.messages == []


def test_a_yes_where_the_call_back_time_is_asked_is_not_stored(dispatcher, domain):
    form = booking.ValidateCallbackForm()
    result = form.validate_callback_time("yes", dispatcher, make_tracker("yes", "affirm"), domain)
    assert result == {"callback_time": None}
    assert responses(dispatcher) == ["utter_booking_not_a_time"]


def test_no_thanks_where_the_email_is_asked_skips_it_whatever_the_intent(dispatcher, domain):
    tracker = make_tracker("no thanks", "thank")
    result = ValidateBookingForm().validate_email("no thanks", dispatcher, tracker, domain)
    assert result == {"email": "none"}


async def test_what_the_booking_request_already_says_is_kept_for_the_form_to_check(
    dispatcher, domain
):
    text = "I'd like to book for next Tuesday at 3pm, my name is Ana Ruiz"
    events = await ActionStartBooking().run(
        dispatcher, make_tracker(text, "book_appointment"), domain
    )
    assert events[-2:] == [
        SlotSet("patient_name", "Ana Ruiz"),
        SlotSet("preferred_start", "I'd like to book for next Tuesday at 3pm"),
    ]
    slots = ValidateBookingForm().validate_preferred_start(
        events[-1]["value"], dispatcher, make_tracker(text, "book_appointment"), domain
    )
    assert slots["preferred_start"] == "2026-11-24T15:00:00-05:00"


def callback_tracker(request: str, reply: str) -> Tracker:
    """A conversation whose visitor asked for a person (``request``), was offered a
    call-back and answered ``reply``."""
    tracker = make_tracker(reply, "affirm")
    tracker.events = [
        {"event": "user", "text": request, "parse_data": {"intent": {"name": "request_human"}}},
        {"event": "bot", "text": "Would you like a call back?"},
        {"event": "user", "text": reply, "parse_data": {"intent": {"name": "affirm"}}},
    ]
    return tracker


async def test_what_the_call_back_request_and_its_yes_already_say_is_kept(dispatcher, domain):
    tracker = callback_tracker(
        "can someone call me back tomorrow afternoon about my sciatica", "yes please, I'm Ana Ruiz"
    )
    events = await ActionStartCallback().run(dispatcher, tracker, domain)
    kept = {event["name"]: event["value"] for event in events[3:]}
    assert kept == {
        "patient_name": "Ana Ruiz",
        "callback_time": "tomorrow afternoon",
        "concern": "my sciatica",
    }


async def test_a_call_back_asked_for_without_details_only_starts_afresh(dispatcher, domain):
    events = await ActionStartCallback().run(
        dispatcher, callback_tracker("can i talk to a real person", "yes"), domain
    )
    assert [(e["name"], e["value"]) for e in events[1:]] == [
        ("callback_time", None),
        ("booking_reference", None),
    ]


@pytest.mark.parametrize("text", ["yes", "ok", "hello", "no thanks"])
def test_a_yes_or_a_greeting_where_the_concern_is_asked_is_not_stored(dispatcher, domain, text):
    tracker = make_tracker(text, "affirm")
    assert ValidateBookingForm().validate_concern(text, dispatcher, tracker, domain) == {
        "concern": None
    }


def test_a_complaint_where_the_concern_is_asked_is_stored(dispatcher, domain):
    tracker = make_tracker("stiff neck since monday", "neck_pain")
    result = ValidateBookingForm().validate_concern(
        "stiff neck since monday", dispatcher, tracker, domain
    )
    assert result == {"concern": "stiff neck since monday"}
