"""Whole conversations over HTTP with the real Rasa server and action server:
the symptom guide, red flags, and a booking that lands in the app database."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from clinic.settings import ClinicProfile

from .servers import Assistant

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def is_urgent(messages: list[dict]) -> bool:
    return any((m.get("custom") or {}).get("urgent") for m in messages)


def test_the_symptom_guide_screens_first_then_explains_without_diagnosing(assistant: Assistant):
    sender = new_sender()
    first = " ".join(assistant.reply_texts(sender, "my lower back has hurt for weeks"))
    assert "bladder or bowel" in first  # the back screening question comes first
    assert "quadratus lumborum" not in first
    after_screen = " ".join(assistant.reply_texts(sender, "no"))
    assert "what does it feel like?" in after_screen  # "for weeks" already said how long
    last = " ".join(assistant.reply_texts(sender, "a dull ache"))
    assert "quadratus lumborum" in last
    assert "not a diagnosis" in last


def test_the_symptom_guide_asks_how_long_when_the_complaint_did_not_say(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "my lower back really hurts")
    assert "How long has this been going on?" in " ".join(assistant.reply_texts(sender, "no"))
    assistant.reply_texts(sender, "about three weeks")
    last = " ".join(assistant.reply_texts(sender, "a dull ache"))
    assert "quadratus lumborum" in last


def test_a_yes_to_the_screening_question_gives_urgent_advice(
    assistant: Assistant, clinic: ClinicProfile
):
    sender = new_sender()
    assistant.reply_texts(sender, "i get bad headaches")
    messages = assistant.replies(sender, "yes")
    assert is_urgent(messages)
    assert any(clinic.emergency_number in m.get("text", "") for m in messages)


@pytest.mark.parametrize(
    "text",
    [
        "my back hurts and since yesterday i can't control my bladder",
        "i have crushing chest pain spreading to my left arm",
        "suddenly the worst headache of my life",
    ],
)
def test_a_red_flag_in_any_message_is_answered_with_urgent_care(
    assistant: Assistant, clinic: ClinicProfile, text: str
):
    messages = assistant.replies(new_sender(), text)
    assert is_urgent(messages)
    texts = " ".join(m.get("text", "") for m in messages)
    assert clinic.emergency_number in texts
    assert "Book a consultation" not in str(messages)


def test_thoughts_of_self_harm_get_the_crisis_line(assistant: Assistant, clinic: ClinicProfile):
    messages = assistant.replies(new_sender(), "the pain is so bad i want to kill myself")
    assert is_urgent(messages)
    assert any(clinic.crisis_line in m.get("text", "") for m in messages)


def test_self_harm_beside_another_warning_sign_gets_the_crisis_line_and_urgent_care(
    assistant: Assistant, clinic: ClinicProfile
):
    text = (
        "My brother (19) has had back pain since a car crash and tonight he told me "
        "he's got a rope in his car and 'a plan'. I don't know what to do"
    )
    messages = assistant.replies(new_sender(), text)
    texts = " ".join(m.get("text", "") for m in messages)
    assert is_urgent(messages)
    assert clinic.crisis_line in texts and clinic.emergency_number in texts


def test_a_warning_sign_spread_over_two_messages_gets_urgent_care_on_the_second(
    assistant: Assistant, clinic: ClinicProfile
):
    sender = new_sender()
    first = assistant.replies(sender, "my lower back is really bad this week")
    assert not is_urgent(first)
    second = assistant.replies(sender, "and i've had a high temperature since last night")
    assert is_urgent(second)
    assert clinic.emergency_number in " ".join(m.get("text", "") for m in second)


def test_a_misspelt_warning_sign_gets_urgent_care(assistant: Assistant):
    assert is_urgent(assistant.replies(new_sender(), "i cant controll my bladdr since yesterday"))


def test_a_warning_sign_in_the_middle_of_the_symptom_guide_stops_it(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "my lower back has hurt for weeks")
    assistant.reply_texts(sender, "no")  # the screening question of the guide
    assert is_urgent(assistant.replies(sender, "oh and i also can't control my bladder now"))
    after = " ".join(assistant.reply_texts(sender, "is dry needling safe?"))
    assert "sterile" in after  # the guide is gone: the question is simply answered


# The learned detector's weaker evidence. "/intent{...}" messages carry the entity
# into the real stack as the NLU would, so these prove the policy, the responses and
# the form over HTTP whatever the model's scores; the model itself is measured by
# scripts/red_flag_report.py and tests/test_red_flag_detectors.py.
SUSPECTED_CAUDA = '/back_pain{"red_flag_suspected": "cauda_equina"}'


def test_a_suspected_warning_sign_gets_one_screening_question_and_yes_gets_urgent_care(
    assistant: Assistant, clinic: ClinicProfile
):
    sender = new_sender()
    question = assistant.replies(sender, SUSPECTED_CAUDA)
    assert not is_urgent(question)
    assert [b["payload"] for b in question[-1]["buttons"]] == ["/affirm", "/deny"]
    assert "bladder" in question[-1]["text"]
    answer = assistant.replies(sender, "yes")
    assert is_urgent(answer)
    assert clinic.emergency_number in " ".join(m.get("text", "") for m in answer)


def test_no_to_the_screening_question_reassures_and_the_chat_goes_on(assistant: Assistant):
    sender = new_sender()
    assistant.replies(sender, SUSPECTED_CAUDA)
    answer = assistant.replies(sender, "no")
    assert not is_urgent(answer)
    assert "reassuring" in " ".join(m.get("text", "") for m in answer)
    assert "sterile" in " ".join(assistant.reply_texts(sender, "is dry needling safe?"))


def test_no_to_the_screening_question_in_a_booking_asks_the_booking_question_again(
    assistant: Assistant,
):
    sender = new_sender()
    assistant.reply_texts(sender, "i'd like to book an appointment")
    assistant.reply_texts(sender, "Ann Lee")
    assistant.replies(sender, '/inform{"red_flag_suspected": "cardiac"}')
    answer = " ".join(assistant.reply_texts(sender, "no"))
    assert "reassuring" in answer and "phone" in answer.lower()
    assert "email" in " ".join(assistant.reply_texts(sender, "+1 202 555 0199")).lower()


def test_suspected_self_harm_gets_the_crisis_line_at_once(
    assistant: Assistant, clinic: ClinicProfile
):
    messages = assistant.replies(new_sender(), '/feeling_low{"red_flag_suspected": "self_harm"}')
    assert is_urgent(messages)
    assert any(clinic.crisis_line in m.get("text", "") for m in messages)


def booking_rows(assistant: Assistant, sender: str) -> list[tuple]:
    if not assistant.app_db.exists():
        return []
    with sqlite3.connect(assistant.app_db) as db:
        return db.execute(
            "SELECT kind, patient_name, phone, email, concern, new_patient, pregnant,"
            " blood_thinners, needle_fear, status, reference FROM bookings"
            " WHERE conversation_id = ?",
            (sender,),
        ).fetchall()


def test_a_whole_booking_is_saved_once_with_the_reference_shown(assistant: Assistant):
    sender = new_sender()
    answers = [
        "i'd like to book an appointment",
        "Ann Lee",
        "(202) 555-0123",
        "ann.lee@example.org",
        "next tuesday at 2pm",
        "stiff neck from working at a desk",
        "no",  # been before?
        "no",  # pregnant?
        "yes",  # blood thinners?
        "no",  # afraid of needles?
    ]
    for text in answers:
        assistant.reply_texts(sender, text)
    final = " ".join(assistant.reply_texts(sender, "yes"))
    rows = booking_rows(assistant, sender)
    assert len(rows) == 1
    kind, name, phone, email, concern, new_patient, pregnant, thinners, fear, status, ref = rows[0]
    assert (kind, name, phone, email) == (
        "booking",
        "Ann Lee",
        "+12025550123",
        "ann.lee@example.org",
    )
    assert (concern, new_patient, pregnant, thinners, fear) == (
        "stiff neck from working at a desk",
        1,
        0,
        1,
        0,
    )
    assert status == "requested"
    assert ref in final


def test_a_red_flag_in_the_middle_of_a_booking_stops_it_and_nothing_is_saved(
    assistant: Assistant,
):
    sender = new_sender()
    assistant.reply_texts(sender, "i'd like to book an appointment")
    assistant.reply_texts(sender, "Ann Lee")
    messages = assistant.replies(sender, "actually i have crushing chest pain right now")
    assert is_urgent(messages)
    after = " ".join(assistant.reply_texts(sender, "is dry needling safe?"))
    assert "sterile" in after  # the form is gone: the question is simply answered
    assert booking_rows(assistant, sender) == []


def test_stop_in_the_middle_of_a_booking_saves_nothing(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "can i book a consultation")
    assistant.reply_texts(sender, "Ann Lee")
    reply = " ".join(assistant.reply_texts(sender, "cancel"))
    assert "nothing was saved" in reply
    assert booking_rows(assistant, sender) == []


def test_a_bad_phone_number_is_asked_again_with_a_specific_message(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "i want to book")
    assistant.reply_texts(sender, "Ann Lee")
    reply = " ".join(assistant.reply_texts(sender, "12"))
    assert "phone number" in reply
    reply = " ".join(assistant.reply_texts(sender, "202 555 0123"))
    assert "email" in reply.lower()


def test_a_duration_said_with_the_complaint_is_not_asked_again(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "my lower back has been killing me for 3 weeks")
    after_screen = " ".join(assistant.reply_texts(sender, "no"))  # the guide's safety check
    assert "How long has this been going on?" not in after_screen
    assert "what does it feel like?" in after_screen


def test_how_long_and_what_it_feels_like_said_up_front_are_not_asked_again(
    assistant: Assistant,
):
    sender = new_sender()
    first = " ".join(assistant.reply_texts(sender, "my lower back has had a dull ache for 3 weeks"))
    assert "bladder or bowel" in first  # the safety question is still asked
    last = " ".join(assistant.reply_texts(sender, "no"))
    assert "How long" not in last and "what does it feel like" not in last.lower()
    assert "quadratus lumborum" in last  # straight to what may help
