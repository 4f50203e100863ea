"""Session start: carries slots over and refreshes the clinic facts."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from clinic.settings import clinic_slots, load_clinic


class ActionSessionStart(Action):
    """Starts a session with the clinic's facts (from clinic.yml) in slots."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[EventType]:
        carry_over = domain.get("session_config", {}).get("carry_over_slots_to_new_session", True)
        carried = [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if carry_over and value is not None and name != "session_started_metadata"
        ]
        facts = [SlotSet(name, value) for name, value in clinic_slots(load_clinic()).items()]
        return [SessionStarted(), *carried, *facts, ActionExecuted("action_listen")]
