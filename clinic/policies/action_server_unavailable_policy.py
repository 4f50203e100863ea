"""After the action proxy's apology for an action server it could not reach, listen.

When the action server is down, hung or failing, the action proxy
(``clinic/action_proxy.py``) answers Rasa in the action server's place with the response
``utter_action_server_unavailable`` and no events. Rasa logs the custom action and
sends the apology; the policies would then predict what follows that action as if it
had done its work (a form after ``action_start_booking``, a guide's next question) and
call the action server again, each call waiting ``ACTION_TIMEOUT``, or fall back to
"Sorry, I didn't quite understand that". This policy predicts ``action_listen``, with
certainty, once the events of the latest action hold that apology: the visitor reads
the apology with the clinic's phone, and the next message goes on from the stored
conversation.

One failure the proxy cannot answer for is its own absence (killed, and restarted by
supervisord within seconds): Rasa's call of ``action_session_start`` then fails, Rasa logs
the action without its events, and the visitor's first message follows it with no
``action_listen`` between, which no rule expects ("Sorry, I didn't quite understand
that" came). In that state this policy predicts the apology itself, then listens.

Its priority is above RulePolicy's (and FactAnswerPolicy's) and below
RedFlagPolicy's: an urgent reply needs no action server and still comes first. Config
(defaults shown)::

    - name: clinic.policies.action_server_unavailable_policy.ActionServerUnavailablePolicy
      priority: 9
      response: utter_action_server_unavailable
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.action_proxy import UNAVAILABLE_RESPONSE


def responses_since_last_action(tracker: DialogueStateTracker) -> List[str]:
    """The domain responses (``metadata.utter_action``) sent by the latest action."""
    sent: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            break
        if isinstance(event, BotUttered) and event.metadata.get("utter_action"):
            sent.append(str(event.metadata["utter_action"]))
    return sent[::-1]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class ActionServerUnavailablePolicy(Policy):
    """Predicts action_listen after an action whose result was the proxy's apology."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 9, "response": UNAVAILABLE_RESPONSE}

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if self.config["response"] in responses_since_last_action(tracker):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        elif session_start_failed(tracker):
            probabilities[domain.index_for_action(self.config["response"])] = 1.0
        return self._prediction(probabilities)


def session_start_failed(tracker: DialogueStateTracker) -> bool:
    """Whether the latest user message came straight after ``action_session_start`` (no
    ``action_listen`` between: its events were lost) and nothing has answered it yet."""
    seen_message = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_message = True
        elif isinstance(event, ActionExecuted):
            return seen_message and event.action_name == ACTION_SESSION_START_NAME
    return False
