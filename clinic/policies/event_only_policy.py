"""A policy that never chooses an action and only returns events.

Rasa applies every policy's ``events`` whichever policy wins, before the predicted
action runs (``DefaultPolicyPredictionEnsemble``). Subclasses say which events in
``events``; all their action probabilities are 0, so they never steer the dialogue.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class EventOnlyPolicy(Policy):
    """Returns ``events(tracker, domain)`` with every prediction; nothing to train."""

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def events(self, tracker: DialogueStateTracker, domain: Domain) -> List[Event]:
        raise NotImplementedError

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return self._prediction(
            self._default_predictions(domain), events=self.events(tracker, domain)
        )
