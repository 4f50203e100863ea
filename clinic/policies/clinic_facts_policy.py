"""The clinic's facts are in the conversation even when the action server was down.

``action_session_start`` (actions/session.py) puts clinic.yml's facts (name, phone,
opening hours, emergency number, ...) into slots, and the responses use them. When
the action server cannot be reached at that moment, Rasa drops the action's events
and the conversation goes on without them: every answer would say "None" where the
clinic's phone or the emergency number belongs, the urgent-care reply included.

This policy never chooses an action (all its probabilities are 0, at the lowest
priority). With each prediction it returns ``SlotSet`` events for the clinic slots
that are empty; Rasa applies a policy's ``events`` whichever policy wins, before the
predicted action runs. The facts come from clinic.yml (``CLINIC_FILE``) when the
model is loaded, so they follow the file without retraining. Config (defaults)::

    - name: clinic.policies.clinic_facts_policy.ClinicFactsPolicy
      priority: 0
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.policies.event_only_policy import EventOnlyPolicy
from clinic.settings import clinic_slots, load_clinic


def missing_facts(tracker: DialogueStateTracker, facts: Dict[str, str]) -> List[SlotSet]:
    """``SlotSet`` events for the ``facts`` slots that the tracker has empty."""
    return [SlotSet(name, value) for name, value in facts.items() if tracker.get_slot(name) is None]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class ClinicFactsPolicy(EventOnlyPolicy):
    """Fills empty clinic slots from clinic.yml; never predicts an action."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 0}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, **kwargs)
        self._facts: Dict[str, str] | None = None

    def facts(self, domain: Domain) -> Dict[str, str]:
        """clinic.yml's facts that are domain slots, read at the first prediction."""
        if self._facts is None:
            slot_names = {slot.name for slot in domain.slots}
            facts = clinic_slots(load_clinic())
            self._facts = {name: value for name, value in facts.items() if name in slot_names}
        return self._facts

    def events(self, tracker: DialogueStateTracker, domain: Domain) -> List[Event]:
        return list(missing_facts(tracker, self.facts(domain)))
