"""End to end over HTTP: the real Rasa server (REST channel) and action server."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
import requests

from clinic.settings import ClinicProfile, format_opening_hours

from .servers import Assistant

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_greeting_names_the_clinic_from_clinic_yml(assistant: Assistant, clinic: ClinicProfile):
    texts = assistant.reply_texts(new_sender(), "hello there")
    joined = " ".join(texts)
    assert clinic.name in joined
    assert "{" not in joined and "None" not in joined


def test_safety_question_gets_the_safety_answer_with_next_steps(assistant: Assistant):
    response = assistant.send(new_sender(), "is dry needling safe?")
    assert response.status_code == 200
    messages = response.json()
    assert any("sterile" in m.get("text", "") for m in messages)
    buttons = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert "/ask_soreness" in buttons or "/book_appointment" in buttons


def test_opening_hours_question_answers_with_the_hours_of_clinic_yml(
    assistant: Assistant, clinic: ClinicProfile
):
    texts = assistant.reply_texts(new_sender(), "what are your opening hours on saturday?")
    assert any(format_opening_hours(clinic) in text for text in texts)


def test_off_topic_request_is_declined_with_what_the_assistant_can_do(assistant: Assistant):
    texts = assistant.reply_texts(new_sender(), "book me a flight to paris for tomorrow")
    joined = " ".join(texts).lower()
    assert "dry needling" in joined
    assert "flight" not in joined


BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \n\t ",
    "20000 characters": "back pain " * 2000,
    "emoji only": "😀🙏💉🔥",
    "chinese": "我的背很痛，针灸有用吗？",
    "arabic": "أعاني من ألم في الظهر",
    "cyrillic": "У меня болит шея",
    "html": "<script>alert('x')</script><b>hi</b>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "template syntax": "{clinic_name} {{7*7}} ${PATH}",
    "intent payload injection": '/nonexistent_intent{"x": 1}',
}


@pytest.mark.parametrize("text", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_gets_a_reply_and_never_a_server_error(assistant: Assistant, text: str):
    response = assistant.send(new_sender(), text)
    assert response.status_code == 200, response.text[:500]
    messages = response.json()
    assert messages, "the assistant sent no reply"
    assert all(m.get("text") for m in messages)


def test_the_assistant_still_answers_after_bad_input_in_the_same_conversation(
    assistant: Assistant,
):
    sender = new_sender()
    for text in BAD_INPUTS.values():
        assistant.send(sender, text)
    texts = assistant.reply_texts(sender, "will i be sore after dry needling?")
    assert any("day or two" in text for text in texts)


def test_conversations_are_stored_in_the_sql_tracker_store(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "what is dry needling?")
    with sqlite3.connect(assistant.tracker_db) as db:
        rows = db.execute(
            "SELECT type_name, action_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    types = [row[0] for row in rows]
    assert "user" in types
    assert ("action", "action_session_start") in rows
    assert ("action", "utter_what_is_dry_needling") in rows


def test_rasa_http_api_is_not_exposed(assistant: Assistant):
    sender = new_sender()
    assistant.reply_texts(sender, "hi")
    response = requests.get(f"{assistant.rasa_url}/conversations/{sender}/tracker", timeout=10)
    assert response.status_code == 404
