"""The symptom guide: from a complaint, through a safety screen, to what may help.

Steps (symptom_form): one screening question per body area named, how long,
what it feels like; then general information per area and a next step. A "yes"
to a screening question ends the guide with the urgent-care advice instead.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

AREAS = ("back", "neck", "head")
# the complaint intents and the area each names
INTENT_AREAS: Dict[str, str] = {"back_pain": "back", "neck_pain": "neck", "headache": "head"}
# body_part entity values (clinic/nlu/patterns/body_part.jsonl) -> area of the guide
BODY_PART_AREAS: Dict[str, str] = {
    "back": "back",
    "neck": "neck",
    "shoulder": "neck",
    "head": "head",
}
GUIDE_SLOTS = ("symptom_duration", "symptom_character")
EMERGENCY_RESPONSE = "utter_red_flag_emergency"
# What the pain feels like, in the words the guide's question offers ("sharp", "a dull
# ache", "stiff", "spreading") and their neighbours: said with the complaint, it is kept
# and not asked again.
CHARACTER = re.compile(
    r"\b(?:(?:a|an)\s+)?(?:(?:really|very|constant|deep|bit of a)\s+)?"
    r"(?:dull|sharp|stabbing|burning|throbbing|shooting|nagging|pounding|achy|aching|stiff"
    r"|tight|spreading|radiating)"
    r"(?:\s+(?:ache|aching|pain|pains|feeling|sensation))?\b",
    re.IGNORECASE,
)
AREA_RESPONSES: Dict[str, str] = {
    "back": "utter_back_pain",
    "neck": "utter_neck_pain",
    "head": "utter_headache",
}


def screening_slot(area: str) -> str:
    return f"screen_{area}"


def areas_named(intent: str | None, body_parts: List[str]) -> List[str]:
    """The guide's areas a message names: by its intent first, then its body parts."""
    named = [INTENT_AREAS[intent]] if intent in INTENT_AREAS else []
    named += [BODY_PART_AREAS[part] for part in body_parts if part in BODY_PART_AREAS]
    return [area for area in AREAS if area in named]


def screened_positive(slots: Dict[str, Any], areas: List[str]) -> bool:
    return any(slots.get(screening_slot(area)) is True for area in areas)


def said_character(text: str) -> str | None:
    """What the pain feels like, as typed ("a dull ache", "sharp pain"), when ``text`` says."""
    found = CHARACTER.search(text)
    return clean_answer(found.group()) or None if found else None


def said_duration(message: Dict[str, Any]) -> str | None:
    """The words of the first ``duration`` entity in ``message`` ("3 weeks"), as typed."""
    text = str(message.get("text") or "")
    for entity in message.get("entities") or []:
        start, end = entity.get("start"), entity.get("end")
        if entity.get("entity") == "duration" and isinstance(start, int) and isinstance(end, int):
            return clean_answer(text[start:end]) or None
    return None


class ActionStartSymptomGuide(Action):
    """Acknowledges the complaint and sets up the guide for the areas named."""

    def name(self) -> str:
        return "action_start_symptom_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        areas = areas_named(intent, list(tracker.get_latest_entity_values("body_part")))
        dispatcher.utter_message(response="utter_symptom_ack")
        resets = [SlotSet(screening_slot(area), None) for area in AREAS]
        resets += [SlotSet(slot, None) for slot in GUIDE_SLOTS]
        # the complaint in the visitor's words prefills the booking request's concern
        concern = SlotSet("concern", clean_answer(tracker.latest_message.get("text")))
        events = [SlotSet("symptom_areas", areas or ["back"]), *resets, concern]
        # "my lower back has been killing me for 3 weeks": the guide does not ask how long.
        duration = said_duration(tracker.latest_message)
        if duration:
            events.append(SlotSet("symptom_duration", duration))
        # "...a dull ache for 3 weeks": nor what it feels like.
        character = said_character(str(tracker.latest_message.get("text") or ""))
        if character:
            events.append(SlotSet("symptom_character", character))
        return events


class ValidateSymptomForm(FormValidationAction):
    """Asks the screening question of every area named, before anything else."""

    def name(self) -> str:
        return "validate_symptom_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        areas = tracker.get_slot("symptom_areas") or []
        if screened_positive(tracker.slots, areas):
            return []  # a warning sign: no more questions, the guidance sends urgent advice
        screening = {screening_slot(area) for area in AREAS}
        named = [screening_slot(area) for area in areas]
        return named + [slot for slot in domain_slots if slot not in screening]

    def validate_symptom_duration(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"symptom_duration": clean_answer(value)}

    def validate_symptom_character(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"symptom_character": clean_answer(value)}


def clean_answer(value: Any, limit: int = 300) -> str | None:
    """A free answer, trimmed; None (ask again) when it is empty."""
    text = " ".join(str(value or "").split())[:limit]
    return text or None


class ActionSymptomGuidance(Action):
    """Ends the guide: urgent advice after a warning sign, else what may help."""

    def name(self) -> str:
        return "action_symptom_guidance"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        areas = tracker.get_slot("symptom_areas") or []
        if screened_positive(tracker.slots, areas):
            dispatcher.utter_message(response=EMERGENCY_RESPONSE)
            return []
        for area in areas:
            dispatcher.utter_message(response=AREA_RESPONSES[area])
        dispatcher.utter_message(response="utter_symptom_next_step")
        return []
