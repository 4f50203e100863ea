"""Answers from the fact base: FactAnswerPolicy's plan, action_answer_facts' responses and
events, and how FactRetriever splits a message into its asks. No trained model needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    LoopInterrupted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet as SdkSlotSet

from actions.facts import ActionAnswerFacts, answer_responses
from clinic.facts import asks_something, found_facts, reports_complaint
from clinic.nlu.fact_retriever import FactRetriever, Finding, asks, follow_up
from clinic.policies.fact_answer_policy import FactAnswerPolicy

ROOT = Path(__file__).resolve().parents[1]


def fact(value: str, start: int = 0, end: int = 5, area: str | None = None) -> Dict[str, Any]:
    return {"entity": "fact", "value": value, "start": start, "end": end, "area": area}


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> FactAnswerPolicy:
    return FactAnswerPolicy.create(
        FactAnswerPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("fact_answers"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def conversation(
    text: str, intent: str, entities: List[Dict[str, Any]], before: List[Event], *after: Event
) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "visitor",
        [
            *before,
            ActionExecuted("action_listen"),
            UserUttered(text, {"name": intent}, entities),
            *after,
        ],
    )


def in_form(form: str, slot: str) -> List[Event]:
    return [
        ActionExecuted("action_listen"),
        UserUttered("start", {"name": "book_appointment"}),
        ActionExecuted(form),
        ActiveLoop(form),
        SlotSet(REQUESTED_SLOT, slot),
    ]


def predicted(policy: FactAnswerPolicy, tracker: DialogueStateTracker, domain: Domain) -> str:
    prediction = policy.predict_action_probabilities(tracker, domain)
    if max(prediction.probabilities) == 0:
        return ""
    return domain.action_names_or_texts[prediction.probabilities.index(1.0)]


# --- FactAnswerPolicy --------------------------------------------------------------------------


def test_a_fact_question_is_answered_then_the_bot_listens(policy, rasa_domain):
    tracker = conversation("who invented it?", "ask_what_is_dry_needling", [fact("founder")], [])
    assert predicted(policy, tracker, rasa_domain) == "action_answer_facts"
    tracker.update(ActionExecuted("action_answer_facts"))
    assert predicted(policy, tracker, rasa_domain) == "action_listen"


def test_a_question_about_a_complaint_is_answered_without_starting_the_guide(policy, rasa_domain):
    entities = [fact("neck_muscles", area="neck")]
    tracker = conversation("which muscles cause neck pain?", "neck_pain", entities, [])
    assert policy.plan(tracker) == ["action_answer_facts", "action_listen"]


def test_a_reported_complaint_without_a_question_is_left_to_the_guide(policy, rasa_domain):
    entities = [fact("back_pain_common", area="back")]
    tracker = conversation("my lower back has hurt for 3 weeks", "back_pain", entities, [])
    assert policy.plan(tracker) == []
    assert predicted(policy, tracker, rasa_domain) == ""


def test_a_reported_complaint_with_a_question_gets_the_answer_and_then_the_guide(policy):
    entities = [fact("neck_muscles", area="neck")]
    text = "my neck has hurt for weeks, which muscles are involved?"
    tracker = conversation(text, "neck_pain", entities, [])
    assert policy.plan(tracker) == [
        "action_answer_facts",
        "action_start_symptom_guide",
        "symptom_form",
    ]


def test_mid_form_the_answer_comes_first_and_the_form_asks_again(policy, rasa_domain):
    before = in_form("symptom_form", "symptom_duration")
    tracker = conversation("is the twitch normal?", "inform", [fact("twitch_normal")], before)
    prediction = policy.predict_action_probabilities(tracker, rasa_domain)
    assert prediction.is_no_user_prediction
    assert any(isinstance(event, LoopInterrupted) for event in prediction.events)
    assert predicted(policy, tracker, rasa_domain) == "action_answer_facts"
    tracker.update(ActionExecuted("action_answer_facts"))
    assert predicted(policy, tracker, rasa_domain) == "symptom_form"


def test_an_answer_to_the_guide_that_sounds_like_a_fact_is_left_to_the_form(policy, rasa_domain):
    before = in_form("symptom_form", "symptom_character")
    entities = [fact("neck_shoulders", area="neck")]
    tracker = conversation("it radiates into my shoulders", "inform", entities, before)
    assert predicted(policy, tracker, rasa_domain) == ""


def test_an_answer_to_the_booking_form_is_left_to_the_form(policy, rasa_domain):
    before = in_form("booking_form", "patient_name")
    tracker = conversation("Cy Park", "ask_clinic_info", [fact("founder")], before)
    assert predicted(policy, tracker, rasa_domain) == ""


@pytest.mark.parametrize("intent", ["book_appointment", "request_human", "stop", "affirm"])
def test_intents_with_their_own_rule_go_first(policy, rasa_domain, intent):
    tracker = conversation("yes please", intent, [fact("founder")], [])
    assert predicted(policy, tracker, rasa_domain) == ""


def test_a_warning_sign_is_left_to_the_red_flag_policy(policy, rasa_domain):
    entities = [fact("side_effects"), {"entity": "red_flag", "value": "cardiac"}]
    tracker = conversation("is it safe? i have chest pain", "ask_safety", entities, [])
    assert predicted(policy, tracker, rasa_domain) == ""


def test_without_facts_the_rules_decide(policy, rasa_domain):
    tracker = conversation("what is dry needling?", "ask_what_is_dry_needling", [], [])
    assert predicted(policy, tracker, rasa_domain) == ""


def test_after_rasas_fallback_takes_a_message_back_the_bot_listens(policy, rasa_domain):
    tracker = conversation("does dry needling help back pain?", "back_pain", [fact("back")], [])
    tracker.update(ActionExecuted("action_answer_facts"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("a" * 1999, {"name": "nlu_fallback"}))
    assert predicted(policy, tracker, rasa_domain) == ""
    tracker.update(ActionExecuted("action_default_fallback"))
    tracker.update(BotUttered("Sorry, I didn't quite understand that."))
    tracker.update(UserUtteranceReverted())
    assert predicted(policy, tracker, rasa_domain) == "action_listen"


# --- action_answer_facts -----------------------------------------------------------------------


def test_two_facts_are_answered_in_the_order_asked_then_the_next_step(domain):
    entities = [fact("founding_decade", 20, 28), fact("founder", 0, 15)]
    names = answer_responses(
        entities, "out_of_scope", "who invented it and when?", False, domain["responses"]
    )
    assert names == ["utter_fact_founder", "utter_fact_founding_decade", "utter_fact_follow_up"]


def test_a_question_about_a_complaint_offers_that_area_of_the_guide(domain):
    entities = [fact("neck_muscles", area="neck")]
    names = answer_responses(
        entities, "neck_pain", "which muscles cause neck pain?", False, domain["responses"]
    )
    assert names == ["utter_fact_neck_muscles", "utter_fact_offer_guide_neck"]


def test_an_ask_the_articles_do_not_cover_gets_the_honest_reply_once(domain):
    entities = [fact("session_length", 0, 10), fact("not_covered", 15, 30)]
    names = answer_responses(entities, "ask_what_to_expect", "x", False, domain["responses"])
    assert names == ["utter_fact_session_length", "utter_fact_not_covered"]
    only = answer_responses([fact("not_covered")], "nlu_fallback", "x", False, domain["responses"])
    assert only == ["utter_fact_not_covered"]


def test_in_a_form_only_the_answers_are_sent(domain):
    names = answer_responses([fact("bruising")], "inform", "x", True, domain["responses"])
    assert names == ["utter_fact_bruising"]


async def test_a_question_taken_as_the_form_answer_is_undone(dispatcher, domain):
    tracker = Tracker(
        sender_id="visitor",
        slots={"requested_slot": "symptom_duration", "symptom_duration": "does it bruise?"},
        latest_message={
            "text": "does it bruise?",
            "intent": {"name": "inform"},
            "entities": [fact("bruising")],
        },
        events=[
            {"event": "user", "text": "does it bruise?"},
            {"event": "slot", "name": "symptom_duration", "value": "does it bruise?"},
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": "symptom_form"},
        latest_action_name="action_listen",
    )
    events = await ActionAnswerFacts().run(dispatcher, tracker, domain)
    assert events == [SdkSlotSet("symptom_duration", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_fact_bruising"]


# --- what a message asks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("who invented it and when?", ["who invented it", "when"]),
        ("is it safe? does it hurt?", ["is it safe", "does it hurt"]),
        ("why is it called dry? and does it hurt?", ["why is it called dry", "does it hurt"]),
        (
            "does it cause bruising, and how long does it last?",
            ["does it cause bruising", "how long does it last"],
        ),
        ("my neck and shoulders hurt", ["my neck and shoulders hurt"]),
        ("who discovered it and in what decade?", ["who discovered it", "in what decade"]),
        ("which muscles cause neck pain?", ["which muscles cause neck pain"]),
        (
            "does it hurt, how many sessions will i need",
            ["does it hurt", "how many sessions will i need"],
        ),
        (
            "i get headaches from my neck, can needling help",
            ["i get headaches from my neck, can needling help"],
        ),
    ],
)
def test_a_message_is_split_into_its_asks(text, pieces):
    assert [text[start:end] for start, end in asks(text)] == pieces


@pytest.mark.parametrize(
    ("piece", "before", "read"),
    [
        ("when", "who invented it", "when invented it"),
        ("how soon?", "what results do patients notice", "how soon results do patients notice"),
        ("why", "which neck muscles get trigger points", "why neck muscles get trigger points"),
        ("does it hurt", "is it safe", "does it hurt"),  # not a short follow-up
    ],
)
def test_a_short_follow_up_is_read_with_the_ask_before_it(piece, before, read):
    assert follow_up(piece, before) == read


def test_a_report_is_told_apart_from_a_question_about_a_complaint():
    assert reports_complaint("my neck has hurt for 3 weeks", "neck_pain")
    assert not reports_complaint("which muscles cause neck pain?", "neck_pain")
    assert not reports_complaint("does chronic back pain affect mood", "back_pain")
    assert asks_something("my back hurts, which muscles are involved?")
    assert not asks_something("my lower back has been killing me for 3 weeks")


def test_found_facts_are_ordered_by_position_and_kept_once():
    entities = [fact("b", 10, 12), fact("a", 0, 3, "neck"), fact("b", 20, 22), {"entity": "x"}]
    assert [(f.value, f.area) for f in found_facts(entities)] == [("a", "neck"), ("b", None)]


def test_a_fact_about_an_area_is_no_answer_for_a_body_part_the_articles_do_not_cover(
    tmp_path: Path,
):
    model = {
        "pipeline": None,
        "areas": {"back_benefits": "back", "sterile_needles": None},
        "clinic_words": [],
        "other_body_parts": ["knee", "achilles", "hand"],
    }
    retriever = FactRetriever(
        FactRetriever.get_default_config(), LocalModelStorage(tmp_path), Resource("f"), model
    )
    found = [Finding("back_benefits", 0, 10, 0.9), Finding("sterile_needles", 11, 20, 0.8)]
    knee = retriever._for_other_body_part(found, "can it help my knee?", areas=False)
    assert [f.value for f in knee] == ["not_covered", "sterile_needles"]
    both = retriever._for_other_body_part(found, "my knee and my back", areas=True)
    assert both == found
    assert retriever._for_other_body_part(found, "can it help my back?", areas=False) == found
    assert retriever._for_other_body_part(found, "how do you handle it?", areas=False) == found
    knees = retriever._for_other_body_part(found, "both knees hurt", areas=False)
    assert knees[0].value == "not_covered"
