"""Custom actions, with Rasa SDK tracker/dispatcher/domain fixtures and exact events."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions.clinic_info import OVERVIEW, TOPIC_RESPONSES, ActionClinicInfo, responses_for_topics
from actions.session import ActionSessionStart
from clinic.settings import clinic_slots

from .conftest import make_tracker


async def test_session_start_fills_clinic_slots_and_carries_over_earlier_slots(
    dispatcher, domain, clinic
):
    tracker = make_tracker(slots={"clinic_name": "Old name", "crisis_line": None})
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    expected_facts = [SlotSet(name, value) for name, value in clinic_slots(clinic).items()]
    assert events == [
        SessionStarted(),
        SlotSet("clinic_name", "Old name"),
        *expected_facts,
        ActionExecuted("action_listen"),
    ]
    assert dispatcher.messages == []


async def test_session_start_does_not_carry_slots_when_the_domain_says_not_to(
    dispatcher, domain, clinic
):
    domain = {**domain, "session_config": {"carry_over_slots_to_new_session": False}}
    tracker = make_tracker(slots={"clinic_name": "Old name"})
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    assert SlotSet("clinic_name", "Old name") not in events
    assert SlotSet("clinic_name", clinic.name) in events


@pytest.mark.parametrize(
    ("topics", "responses"),
    [
        ([], [OVERVIEW]),
        (["hours"], ["utter_clinic_hours"]),
        (["prices", "parking"], ["utter_clinic_prices", "utter_clinic_parking"]),
        (["phone", "email"], ["utter_clinic_phone"]),
        (["hours", "hours"], ["utter_clinic_hours"]),
        (["unknown-topic"], [OVERVIEW]),
    ],
)
def test_clinic_topics_choose_their_responses_in_order(topics, responses):
    assert responses_for_topics(topics) == responses


async def test_clinic_info_sends_one_response_per_asked_topic(dispatcher, domain):
    tracker = make_tracker(
        "how much is it and is there parking",
        "ask_clinic_info",
        [
            {"entity": "clinic_topic", "value": "prices"},
            {"entity": "clinic_topic", "value": "parking"},
        ],
    )
    events = await ActionClinicInfo().run(dispatcher, tracker, domain)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_clinic_prices",
        "utter_clinic_parking",
    ]


def test_every_clinic_response_exists_in_the_domain(domain):
    for response in {*TOPIC_RESPONSES.values(), OVERVIEW}:
        assert response in domain["responses"], response


def test_every_custom_action_is_declared_in_the_domain(domain):
    for action in (ActionSessionStart(), ActionClinicInfo()):
        assert action.name() in domain["actions"]
