"""clinic.booking.up_front: what the message asking to book already says is kept."""

from __future__ import annotations

import pytest

from clinic.booking.up_front import given_up_front, time_phrase


def test_the_issue_s_opening_message_gives_the_time_and_the_name():
    assert given_up_front(
        "I'd like to book for next Tuesday at 3pm, my name is Ana Ruiz", "US"
    ) == {
        "patient_name": "Ana Ruiz",
        "preferred_start": "I'd like to book for next Tuesday at 3pm",
    }


def test_name_phone_email_time_and_concern_in_one_message_are_all_kept():
    text = "book me in for my neck pain, I'm Bo Chen, 202 555 0188, bo@example.org, friday at 10am"
    assert given_up_front(text, "US") == {
        "email": "bo@example.org",
        "phone": "202 555 0188",
        "patient_name": "Bo Chen",
        "preferred_start": "friday at 10am",
        "concern": "my neck pain",
    }


@pytest.mark.parametrize(
    "text",
    ["i'm free on tuesday, can i book", "I'm looking to book", "I am hoping to come in"],
)
def test_after_i_m_only_capitalised_words_are_a_name(text):
    assert "patient_name" not in given_up_front(text, "US")


def test_a_name_that_sounds_like_a_topic_is_kept_after_my_name_is():
    assert given_up_front("my name is cy park and I'd like to book", "US") == {
        "patient_name": "cy park"
    }


def test_a_clause_the_time_parser_cannot_read_is_not_kept_as_the_time():
    found = given_up_front("can I book one session", "US", is_time=lambda clause: False)
    assert found == {}


@pytest.mark.parametrize("text", ["/book_appointment", "", "i want to book an appointment"])
def test_nothing_said_up_front_gives_nothing(text):
    assert given_up_front(text, "US") == {}


def test_the_shortest_complaint_is_the_concern():
    assert given_up_front("I want to book with a physio about headaches", "US") == {
        "concern": "headaches"
    }


@pytest.mark.parametrize(
    ("clause", "phrase"),
    [
        ("can someone call me back tomorrow after 5 please", "tomorrow after 5"),
        ("ring me any time after 3", "any time after 3"),
        ("call me on friday morning, thanks", "on friday morning"),
        ("whenever suits", "whenever"),
        ("no time words here", "no time words here"),
    ],
)
def test_the_time_phrase_keeps_the_words_that_say_the_time(clause: str, phrase: str):
    assert time_phrase(clause) == phrase
