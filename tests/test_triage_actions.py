"""The symptom guide's actions, with exact events and responses."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.faq import ActionAnswerQuestion, response_for_intent
from actions.triage import (
    AREA_RESPONSES,
    ActionStartSymptomGuide,
    ActionSymptomGuidance,
    ValidateSymptomForm,
    areas_named,
    clean_answer,
)

from .conftest import make_tracker


@pytest.mark.parametrize(
    ("intent", "body_parts", "areas"),
    [
        ("back_pain", [], ["back"]),
        ("neck_pain", ["head"], ["neck", "head"]),
        ("headache", ["neck", "shoulder"], ["neck", "head"]),
        ("inform", ["back", "back"], ["back"]),
        ("greet", [], []),
    ],
)
def test_the_areas_come_from_the_intent_and_the_body_parts(intent, body_parts, areas):
    assert areas_named(intent, body_parts) == areas


async def test_starting_the_guide_acknowledges_and_resets_earlier_answers(dispatcher, domain):
    tracker = make_tracker(
        "my neck is stiff and i get headaches",
        "neck_pain",
        [{"entity": "body_part", "value": "neck"}, {"entity": "body_part", "value": "head"}],
        slots={"screen_neck": False, "symptom_duration": "weeks"},
    )
    events = await ActionStartSymptomGuide().run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("symptom_areas", ["neck", "head"]),
        SlotSet("screen_back", None),
        SlotSet("screen_neck", None),
        SlotSet("screen_head", None),
        SlotSet("symptom_duration", None),
        SlotSet("symptom_character", None),
        SlotSet("concern", "my neck is stiff and i get headaches"),
        SlotSet("symptom_character", "stiff"),  # said up front: not asked again
    ]
    assert [m["response"] for m in dispatcher.messages] == ["utter_symptom_ack"]


async def test_the_form_screens_every_area_named_before_anything_else(dispatcher, domain):
    tracker = make_tracker(slots={"symptom_areas": ["neck", "head"]})
    slots = await ValidateSymptomForm().required_slots(
        ["screen_back", "screen_neck", "screen_head", "symptom_duration", "symptom_character"],
        dispatcher,
        tracker,
        domain,
    )
    assert slots == ["screen_neck", "screen_head", "symptom_duration", "symptom_character"]


async def test_a_yes_to_a_screening_question_ends_the_questions(dispatcher, domain):
    tracker = make_tracker(slots={"symptom_areas": ["neck", "head"], "screen_neck": True})
    slots = await ValidateSymptomForm().required_slots(
        ["symptom_duration", "symptom_character"], dispatcher, tracker, domain
    )
    assert slots == []


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("  about   three weeks ", "about three weeks"),
        ("", None),
        (None, None),
        ("x" * 500, "x" * 300),
    ],
)
def test_free_answers_are_trimmed_and_empty_ones_asked_again(value, cleaned):
    assert clean_answer(value) == cleaned


async def test_the_guidance_explains_each_area_then_offers_the_next_step(dispatcher, domain):
    tracker = make_tracker(slots={"symptom_areas": ["neck", "head"], "screen_neck": False})
    events = await ActionSymptomGuidance().run(dispatcher, tracker, domain)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_neck_pain",
        "utter_headache",
        "utter_symptom_next_step",
    ]


async def test_the_guidance_after_a_yes_is_the_urgent_advice_only(dispatcher, domain):
    tracker = make_tracker(slots={"symptom_areas": ["back"], "screen_back": True})
    await ActionSymptomGuidance().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_red_flag_emergency"]


def test_every_area_has_its_guidance_and_screening_question(domain):
    for area, response in AREA_RESPONSES.items():
        assert response in domain["responses"]
        assert f"utter_ask_screen_{area}" in domain["responses"]
        assert f"screen_{area}" in domain["slots"]


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        ("ask_safety", "utter_safety"),
        ("ask_what_is_dry_needling", "utter_what_is_dry_needling"),
        ("feeling_low", "utter_feeling_low"),
        ("greet", "utter_greet"),
        ("inform", None),
        (None, None),
    ],
)
def test_question_intents_map_to_their_answers(domain, intent, response):
    assert response_for_intent(intent, domain["responses"]) == response


async def test_a_question_inside_a_form_is_answered_and_unknown_ones_get_the_default(
    dispatcher, domain
):
    await ActionAnswerQuestion().run(dispatcher, make_tracker("is it safe", "ask_safety"), domain)
    await ActionAnswerQuestion().run(dispatcher, make_tracker("hmm", "inform"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_safety", "utter_default"]


async def test_a_duration_said_with_the_complaint_is_kept_and_not_asked_again(dispatcher, domain):
    text = "my lower back has been killing me for 3 weeks"
    entity = {"entity": "duration", "value": "weeks", "start": 38, "end": 45}
    tracker = make_tracker(text, "back_pain", [entity])
    events = await ActionStartSymptomGuide().run(dispatcher, tracker, domain)
    assert events[-1] == SlotSet("symptom_duration", "3 weeks")
    assert SlotSet("symptom_duration", None) in events  # an earlier guide's answer is cleared


async def test_without_a_duration_in_the_complaint_the_guide_asks_for_it(dispatcher, domain):
    tracker = make_tracker("my lower back is killing me", "back_pain")
    events = await ActionStartSymptomGuide().run(dispatcher, tracker, domain)
    assert [e for e in events if e["name"] == "symptom_duration"] == [
        SlotSet("symptom_duration", None)
    ]


@pytest.mark.parametrize(
    ("text", "character"),
    [
        ("my lower back has had a dull ache for 3 weeks", "a dull ache"),
        ("sharp pain in my neck when i turn", "sharp pain"),
        ("my neck is really stiff since monday", "really stiff"),
        ("Throbbing headaches most afternoons", "Throbbing"),
    ],
)
async def test_what_the_pain_feels_like_said_with_the_complaint_is_kept_and_not_asked_again(
    dispatcher, domain, text, character
):
    events = await ActionStartSymptomGuide().run(
        dispatcher, make_tracker(text, "back_pain"), domain
    )
    assert events[-1] == SlotSet("symptom_character", character)
    assert SlotSet("symptom_character", None) in events  # an earlier guide's answer is cleared


@pytest.mark.parametrize(
    "text", ["my lower back is killing me", "my neck hurts", "i get headaches every day"]
)
async def test_without_what_it_feels_like_the_guide_asks_for_it(dispatcher, domain, text):
    events = await ActionStartSymptomGuide().run(
        dispatcher, make_tracker(text, "back_pain"), domain
    )
    assert [e for e in events if e["name"] == "symptom_character"] == [
        SlotSet("symptom_character", None)
    ]
