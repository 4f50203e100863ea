"""Answers a question asked in the middle of a form, then the form goes on."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher


def response_for_intent(intent: str | None, responses: Dict[str, Any]) -> str | None:
    """The answer to a question intent, by the naming convention ask_x -> utter_x."""
    if not intent:
        return None
    response = "utter_" + intent.removeprefix("ask_")
    return response if response in responses else None


class ActionAnswerQuestion(Action):
    """Sends the answer for the latest intent (used by the forms' digression rules)."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        response = response_for_intent(intent, domain.get("responses", {}))
        dispatcher.utter_message(response=response or "utter_default")
        return []
