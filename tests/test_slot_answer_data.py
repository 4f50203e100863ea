"""The slot-answer decision over realistic answers typed the way people type them.

tests/slot_answers/ holds the cases: names.yml (names of many cultures and scripts,
lower case, lead-ins, hyphens, apostrophes, accents, names that are English or
clinic words), not_names.yml (yes/no, greetings, symptoms, sentences, wrong shapes),
times.yml (answers to the time questions) and questions.yml (questions asked
mid-form). Every case is a test of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import pytest
import yaml

from actions.booking import name_answer
from clinic.booking.slot_answer import QUESTION_INTENTS, SLOTS, Kind, decide

CASES = Path(__file__).resolve().parent / "slot_answers"


def load(name: str) -> Any:
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))


NAMES: List[str] = load("names.yml")["plain"]
NAMES_WITH_LEAD_INS: List[Tuple[str, str]] = list(load("names.yml")["with_lead_ins"].items())
NOT_NAMES: List[Tuple[str, str, str]] = [
    (text, intent, reason)
    for reason, cases in load("not_names.yml").items()
    for text, intent in cases
]
TIMES: List[Tuple[str, str]] = [tuple(case) for case in load("times.yml")]
QUESTIONS: List[Tuple[str, str]] = [tuple(case) for case in load("questions.yml")]
# Intents a classifier has given names: answers whatever the intent says.
INTENTS_FOR_NAMES = ["inform", "ask_clinic_info", "ask_suitability", "out_of_scope"]


def test_the_case_files_hold_at_least_what_issue_15_asks_for():
    assert len(NAMES) + len(NAMES_WITH_LEAD_INS) >= 200
    assert len(NOT_NAMES) >= 50
    assert len(TIMES) >= 60
    assert len(QUESTIONS) >= 30
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("intent", INTENTS_FOR_NAMES)
@pytest.mark.parametrize("text", NAMES)
def test_a_typed_name_is_taken_as_the_name_whatever_the_intent(text: str, intent: str):
    decision = decide("patient_name", text, intent)
    assert decision.kind is Kind.ANSWER, decision
    assert decision.value == " ".join(text.replace("’", "'").split())


@pytest.mark.parametrize("text", NAMES)
def test_a_typed_name_is_stored_as_typed(text: str):
    assert name_answer(text, "inform") == (" ".join(text.replace("’", "'").split()), None)


@pytest.mark.parametrize(("text", "name"), NAMES_WITH_LEAD_INS)
def test_the_words_around_a_name_are_left_out_of_it(text: str, name: str):
    assert name_answer(text, "inform") == (name, None)
    assert decide("patient_name", text, "ask_clinic_info").kind is Kind.ANSWER


@pytest.mark.parametrize(("text", "intent", "reason"), NOT_NAMES)
def test_a_reply_that_is_no_name_is_refused_with_its_reason(text: str, intent: str, reason: str):
    assert decide("patient_name", text, intent) == (Kind.REFUSAL, None, reason)
    name, response = name_answer(text, intent)
    assert name is None and response is not None


@pytest.mark.parametrize("text", [text for text, _, _ in NOT_NAMES])
def test_a_reply_that_is_no_name_is_not_a_name_even_when_classified_as_inform(text: str):
    assert decide("patient_name", text, "inform").kind is not Kind.ANSWER


@pytest.mark.parametrize("slot", ["preferred_start", "callback_time"])
@pytest.mark.parametrize(("text", "intent"), TIMES)
def test_a_time_in_plain_words_answers_the_time_question(text: str, intent: str, slot: str):
    assert decide(slot, text, intent).kind is Kind.ANSWER


@pytest.mark.parametrize("slot", sorted(SLOTS))
@pytest.mark.parametrize(("text", "intent"), QUESTIONS)
def test_a_question_mid_form_is_left_to_the_rules_whatever_slot_is_asked(
    text: str, intent: str, slot: str
):
    assert decide(slot, text, intent).kind is Kind.DIGRESSION


@pytest.mark.parametrize(("text", "intent"), QUESTIONS)
def test_the_questions_carry_intents_the_rules_answer_mid_form(text: str, intent: str):
    assert intent in QUESTION_INTENTS


# Round 8, written outside the team and measured once as held-out before its misses were
# fixed (see the file's header); its replies carry no intent, so each is decided under
# the intents a classifier gives such replies.
ROUND8 = load("round8.yml")


@pytest.mark.parametrize("intent", ["inform", "out_of_scope", "affirm"])
@pytest.mark.parametrize("text", ROUND8["names"])
def test_round8_a_name_typed_with_or_without_lead_in_is_a_name(text: str, intent: str):
    assert decide("patient_name", text, intent).kind is Kind.ANSWER


@pytest.mark.parametrize("text", ROUND8["not_names"])
def test_round8_a_reply_that_is_no_name_is_not_taken_as_one(text: str):
    assert decide("patient_name", text, "inform").kind is not Kind.ANSWER


@pytest.mark.parametrize("slot", ["preferred_start", "callback_time"])
@pytest.mark.parametrize("text", ROUND8["times"])
def test_round8_a_time_answers_both_time_questions(text: str, slot: str):
    assert decide(slot, text, "inform").kind is Kind.ANSWER


@pytest.mark.parametrize("slot", ["patient_name", "phone", "preferred_start"])
@pytest.mark.parametrize("text", ROUND8["questions"])
def test_round8_a_question_is_left_to_the_rules(text: str, slot: str):
    assert decide(slot, text, "ask_clinic_info").kind is Kind.DIGRESSION


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("van Dijk, Sanne", "Sanne van Dijk"),
        ("sure - Victor Mann", "Victor Mann"),
        ("hi im faisal", "faisal"),
        ("the name's Dean Lucky", "Dean Lucky"),
        ("A.J. Kowalczyk", "A.J Kowalczyk"),
    ],
)
def test_lead_ins_acknowledgements_and_surname_first_are_read_as_the_name(text, name):
    assert decide("patient_name", text, "inform") == (Kind.ANSWER, name, None)


@pytest.mark.parametrize("text", ["April May", "June Friday", "Summer Day"])
def test_a_name_made_of_month_or_day_words_stays_a_name(text: str):
    assert decide("patient_name", text, "inform").kind is Kind.ANSWER


@pytest.mark.parametrize("text", ["how soon can someone see me?", "what time do you close?"])
def test_an_asking_question_with_a_time_word_is_no_time(text: str):
    assert decide("preferred_start", text, "inform").kind is Kind.DIGRESSION


def test_a_proposal_shaped_as_a_question_is_a_time():
    assert decide("preferred_start", "how about friday at 2?", "inform").kind is Kind.ANSWER
