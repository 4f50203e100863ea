"""clinic.booking.slot_answer: the answer to the slot being asked, a digression, or neither.

The decision looks at the slot, the shape of the message and what the slot accepts;
the intent is one input. The large sets of realistic answers are in
tests/slot_answers/ (tests/test_slot_answer_data.py).
"""

from __future__ import annotations

import pytest

from clinic.booking.slot_answer import Kind, decide, is_question, name_candidate


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Cy Park", "ask_clinic_info"),
        ("Philippa Greenhalgh", "ask_suitability"),
        ("Rose Hill", "inform"),
        ("Faith Price", "ask_clinic_info"),
        ("Bill Payne", "ask_clinic_info"),
        ("Will Booker", "ask_what_to_expect"),
    ],
)
def test_names_that_are_english_or_clinic_words_are_names_whatever_the_intent(text, intent):
    assert decide("patient_name", text, intent) == (Kind.ANSWER, text, None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("yes", "yes_no"), ("no", "yes_no"), ("ok", "yes_no"), ("hello", "greeting")],
)
def test_yes_no_ok_and_greetings_are_never_a_name(text, reason):
    assert decide("patient_name", text, "affirm") == (Kind.REFUSAL, None, reason)


def test_a_symptom_sentence_is_no_name():
    assert decide("patient_name", "my lower back really hurts", "back_pain").reason == "symptom"


@pytest.mark.parametrize("text", ["is it safe?", "where do I park", "will it hurt"])
def test_a_question_at_the_name_is_a_digression_for_the_rules(text):
    assert decide("patient_name", text, "inform").kind is Kind.DIGRESSION


def test_stop_is_left_to_the_stop_rule():
    assert decide("patient_name", "never mind", "stop") == (Kind.DIGRESSION, None, "stop")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi, my name is Dr. Ana Ruiz, thanks", "Ana Ruiz"),
        ("it's josé", "josé"),
        ("J. R. Tolkien", "J R Tolkien"),
    ],
)
def test_lead_ins_titles_and_thanks_are_not_part_of_the_name(text, name):
    assert name_candidate(text) == name


@pytest.mark.parametrize("text", ["any time after 3", "first thing Friday", "can you do tues 4?"])
def test_times_in_plain_words_answer_the_time_question(text):
    assert decide("preferred_start", text, "inform").kind is Kind.ANSWER
    assert decide("callback_time", text, "inform").kind is Kind.ANSWER


def test_a_question_about_opening_hours_with_a_day_in_it_is_still_a_question():
    assert decide("preferred_start", "are you open on saturday?", "ask_clinic_info").kind is (
        Kind.DIGRESSION
    )


def test_a_phone_number_classified_as_a_clinic_question_is_a_phone_number():
    assert decide("phone", "020 7946 0958", "ask_clinic_info").kind is Kind.ANSWER


def test_no_thanks_at_the_email_skips_it():
    assert decide("email", "no thanks", "thank") == (Kind.ANSWER, "none", None)


def test_a_button_payload_is_never_an_answer():
    assert decide("patient_name", "/deny", "deny").kind is Kind.REFUSAL


def test_will_and_can_open_a_question_only_before_a_pronoun():
    assert is_question("will it hurt") and is_question("can I park there")
    assert not is_question("Will Booker") and not is_question("Can Yilmaz")


def test_a_slot_without_a_check_is_a_programming_error():
    with pytest.raises(ValueError):
        decide("pregnant", "yes")


@pytest.mark.parametrize(
    ("text", "intent", "kind"),
    [
        ("Bill", "out_of_scope", Kind.ANSWER),
        ("Price", "inform", Kind.ANSWER),
        ("parking", "ask_clinic_info", Kind.DIGRESSION),
        ("insurance", "ask_clinic_info", Kind.DIGRESSION),
        ("Park", None, Kind.DIGRESSION),
    ],
)
def test_a_lone_word_that_is_also_a_topic_is_tipped_by_the_intent(text, intent, kind):
    assert decide("patient_name", text, intent).kind is kind
