"""Answers from the articles' facts over HTTP, with the real Rasa server and action server:
a specific question, two asks in one message, a question about a complaint, the honest
not-covered reply, and fact questions in the middle of the booking and the symptom guide."""

from __future__ import annotations

import uuid

import pytest

from .servers import Assistant

pytestmark = pytest.mark.e2e

SOURCE_A = "Dry Needling: An Alternative Approach to Alleviating Back Pain"


def new_sender() -> str:
    return f"e2e-facts-{uuid.uuid4().hex}"


def said(assistant: Assistant, sender: str, text: str) -> str:
    return " ".join(assistant.reply_texts(sender, text))


def test_a_specific_question_gets_its_fact_and_the_source_article(assistant: Assistant):
    messages = assistant.replies(new_sender(), "who invented dry needling?")
    texts = " ".join(m.get("text", "") for m in messages)
    assert "Janet Travell" in texts
    assert {"source": SOURCE_A} in [m.get("custom") for m in messages]


def test_two_asks_in_one_message_get_both_facts_in_one_reply(assistant: Assistant):
    reply = said(assistant, new_sender(), "who invented it and when?")
    assert "Janet Travell" in reply and "1940s" in reply


def test_a_question_about_a_complaint_is_answered_and_the_guide_only_offered(
    assistant: Assistant,
):
    sender = new_sender()
    messages = assistant.replies(sender, "which muscles cause neck pain?")
    reply = " ".join(m.get("text", "") for m in messages)
    assert "levator scapulae" in reply
    assert "safety check" not in reply
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert "/neck_pain" in payloads  # the offer of the guide
    assert "safety check" in said(assistant, sender, "/neck_pain")  # the offer starts it


def test_a_reported_complaint_still_starts_the_guide(assistant: Assistant):
    reply = said(assistant, new_sender(), "my neck has hurt for 3 weeks")
    assert "safety check" in reply


def test_a_clinic_question_the_articles_do_not_cover_gets_the_honest_reply(
    assistant: Assistant,
):
    for question in (
        "how many needles do you use?",
        "can it help my knee?",
        "is dry needling ok while i am pregnant?",
    ):
        messages = assistant.replies(new_sender(), question)
        reply = " ".join(m.get("text", "") for m in messages)
        assert "practitioner will go through" in reply, question
        assert "didn't quite understand" not in reply, question
        assert not [m for m in messages if (m.get("custom") or {}).get("source")], question


def test_a_fact_question_mid_booking_is_answered_and_the_name_asked_again(
    assistant: Assistant,
):
    sender = new_sender()
    said(assistant, sender, "i'd like to book an appointment")
    reply = said(assistant, sender, "how long does the soreness last?")
    assert "a day or two" in reply
    assert "name" in reply.lower()  # the form asks its question again
    assert "phone" in said(assistant, sender, "Ann Lee").lower()


def test_a_fact_question_mid_guide_is_answered_and_the_guide_goes_on(assistant: Assistant):
    sender = new_sender()
    said(assistant, sender, "my lower back really hurts")
    said(assistant, sender, "no")
    reply = said(assistant, sender, "which muscles are usually behind low back pain?")
    assert "quadratus lumborum" in reply
    assert "How long has this been going on?" in reply  # asked again, not filled
    said(assistant, sender, "about three weeks")
    assert "not a diagnosis" in said(assistant, sender, "a dull ache")
