"""Answers about the clinic itself: hours, address, phone, prices, ..."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

# clinic_topic entity value (see clinic/nlu/patterns/clinic_topic.jsonl) -> response
TOPIC_RESPONSES: Dict[str, str] = {
    "hours": "utter_clinic_hours",
    "address": "utter_clinic_address",
    "phone": "utter_clinic_phone",
    "email": "utter_clinic_phone",
    "prices": "utter_clinic_prices",
    "insurance": "utter_clinic_insurance",
    "parking": "utter_clinic_parking",
}
OVERVIEW = "utter_clinic_overview"


def responses_for_topics(topics: List[str]) -> List[str]:
    """The responses answering the asked topics, in the order asked, each once."""
    chosen: List[str] = []
    for topic in topics:
        response = TOPIC_RESPONSES.get(topic)
        if response and response not in chosen:
            chosen.append(response)
    return chosen or [OVERVIEW]


class ActionClinicInfo(Action):
    """Sends the clinic facts the visitor asked about, or an overview."""

    def name(self) -> str:
        return "action_clinic_info"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[EventType]:
        topics = list(tracker.get_latest_entity_values("clinic_topic"))
        for response in responses_for_topics(topics):
            dispatcher.utter_message(response=response)
        return []
