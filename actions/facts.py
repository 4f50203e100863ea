"""Answers the facts of the articles a question asked for (found by FactRetriever)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.facts import COMPLAINT_AREAS, NOT_COVERED, found_facts, reports_complaint

NOT_COVERED_RESPONSE = "utter_fact_not_covered"
FOLLOW_UP_RESPONSE = "utter_fact_follow_up"


def fact_response(value: str) -> str:
    return f"utter_fact_{value}"


def guide_offer_response(area: str) -> str:
    return f"utter_fact_offer_guide_{area}"


def answer_responses(
    entities: List[Dict[str, Any]],
    intent: str | None,
    text: str,
    in_form: bool,
    known: Dict[str, Any],
) -> List[str]:
    """The responses that answer the message, in order: each fact's answer (one reply for
    two asks), the honest "not covered" reply for an ask the articles do not answer, then
    a next step: the symptom guide offered after a question about a complaint, else a
    short follow-up. In a form (or when the guide starts next) the form's question is the
    next step."""
    found = found_facts(entities)
    answers = [
        fact_response(f.value)
        for f in found
        if f.value != NOT_COVERED and fact_response(f.value) in known
    ]
    not_covered = any(f.value == NOT_COVERED for f in found) or not answers
    if not_covered:
        answers.append(NOT_COVERED_RESPONSE)  # it offers a call-back and a booking
    if in_form or not_covered or reports_complaint(text, intent):
        return answers
    areas = [f.area for f in found if f.area]
    if intent in COMPLAINT_AREAS:
        areas.append(COMPLAINT_AREAS[intent])
    if areas and guide_offer_response(areas[0]) in known:
        return answers + [guide_offer_response(areas[0])]
    return answers + [FOLLOW_UP_RESPONSE]


def slots_set_since_user_message(events: List[Dict[str, Any]]) -> List[str]:
    names: List[str] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            names.append(str(event.get("name")))
    return names


class ActionAnswerFacts(Action):
    """Sends the answers of the facts found in the latest message."""

    def name(self) -> str:
        return "action_answer_facts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        message = tracker.latest_message or {}
        in_form = bool(tracker.active_loop_name)
        for response in answer_responses(
            message.get("entities") or [],
            (message.get("intent") or {}).get("name"),
            str(message.get("text") or ""),
            in_form,
            domain.get("responses") or {},
        ):
            dispatcher.utter_message(response=response)
        # A slot mapping (or FormAnswerPolicy) may have taken the question as the answer
        # to the form's question: it was not one, so the form asks again.
        requested = tracker.get_slot("requested_slot") if in_form else None
        if requested and requested in slots_set_since_user_message(tracker.events):
            return [SlotSet(requested, None)]
        return []
