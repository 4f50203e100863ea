"""An answer to the form's question is taken as the answer, whatever the intent.

The booking and call-back forms' free-text slots are filled from the message text,
except when the intent classifier called the message a question (the slots'
``not_intent``): then the form rejects the message and the rules answer the
question before the form asks again. The classifier alone cannot tell "Cy Park"
(a name) from a parking question, or "Philippa Greenhalgh" from a suitability one.

This policy never chooses an action (all its probabilities are 0). Right after a
user message, while one of ``forms`` is active and asking for one of the slots
``clinic.booking.slot_answer`` knows, when no slot mapping took the message and the
decision calls it an answer to that slot, it returns ``SlotSet(requested_slot,
text)``. Rasa applies a policy's ``events`` whichever policy wins, before the
predicted action runs; RulePolicy predicts the active form first, and the form then
validates the slot set since the user's message (``validate_<slot>``) instead of
rejecting it. A real question ("where do I park?") is no answer: nothing is set, the
form rejects it and the rules answer it as before. A message with a warning sign is
left alone (RedFlagPolicy ends the form). Config (defaults)::

    - name: clinic.policies.form_answer_policy.FormAnswerPolicy
      priority: 0
      forms: [booking_form, callback_form]
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.booking.slot_answer import SLOTS, Kind, decide
from clinic.policies.event_only_policy import EventOnlyPolicy
from clinic.policies.red_flag_policy import SUSPECTED_ENTITY, red_flag_categories


def slots_set_since_user_message(tracker: DialogueStateTracker) -> List[str]:
    """The slots set after the latest user message (by action_extract_slots)."""
    names: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, SlotSet):
            names.append(event.key)
    return names


def answer_event(tracker: DialogueStateTracker, forms: List[str]) -> List[SlotSet]:
    """``[SlotSet(requested_slot, text)]`` when the latest message answers the active
    form's question but no slot mapping took it; else ``[]``."""
    if tracker.active_loop_name not in forms or tracker.latest_action_name != ACTION_LISTEN_NAME:
        return []
    message = tracker.latest_message
    requested = tracker.get_slot(REQUESTED_SLOT)
    if message is None or requested not in SLOTS or not message.text:
        return []
    if red_flag_categories(message) or red_flag_categories(message, SUSPECTED_ENTITY):
        return []
    if requested in slots_set_since_user_message(tracker):
        return []
    intent = (message.intent or {}).get("name")
    if decide(requested, message.text, intent).kind is not Kind.ANSWER:
        return []
    return [SlotSet(requested, message.text)]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class FormAnswerPolicy(EventOnlyPolicy):
    """Sets the requested slot from an answer the slot mappings turned away."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 0, "forms": ["booking_form", "callback_form"]}

    def events(self, tracker: DialogueStateTracker, domain: Domain) -> List[Event]:
        return list(answer_event(tracker, list(self.config["forms"])))
