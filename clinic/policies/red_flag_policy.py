"""A warning sign in any message stops every flow and sends the person to urgent care.

The ``red_flag`` entity comes from ``RedFlagExtractor`` (rule-based, independent of
the intent classifier). When the latest user message carries one, this policy
predicts, with certainty and above every other policy (RulePolicy's form
predictions included):

1. the caring crisis-line reply when a category is ``self_harm``,
2. the emergency reply for any other category,
3. ``action_deactivate_loop`` when a form (booking, symptom guide) is active,
4. ``action_listen``: nothing else follows, no dry-needling offer.

When the rules found nothing but the learned detector (``RedFlagClassifier``)
suspects a category (entity ``red_flag_suspected``), the evidence is weaker, so
it asks that category's one screening question (``utter_red_flag_screen_<category>``)
and listens, leaving any form active. A "yes" (intent ``affirm``) to it gets the
urgent plan above; a "no" (``deny``) gets ``utter_red_flag_screen_clear`` and, in a
form, the form's question again, so the form goes on. Suspected self-harm gets the
crisis-line reply at once: offering it is never harmful.

All steps are responses or Rasa's built-in actions, so the urgent advice is sent
even when the action server is down. Config (defaults shown)::

    - name: clinic.policies.red_flag_policy.RedFlagPolicy
      priority: 10                       # above RulePolicy (4) and the rest
      emergency_response: utter_red_flag_emergency
      self_harm_response: utter_red_flag_self_harm
      self_harm_categories: [self_harm]
      screen_prefix: utter_red_flag_screen_    # + category
      screen_clear_response: utter_red_flag_screen_clear
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import (
    ACTION_DEACTIVATE_LOOP_NAME,
    ACTION_LISTEN_NAME,
    REQUESTED_SLOT,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

RED_FLAG_ENTITY = "red_flag"
SUSPECTED_ENTITY = "red_flag_suspected"
AFFIRM, DENY = "affirm", "deny"


def red_flag_categories(
    message: UserUttered | None, entity_type: str = RED_FLAG_ENTITY
) -> List[str]:
    """The red-flag categories in a user message, in order, each once."""
    if message is None:
        return []
    found: List[str] = []
    for entity in message.entities or []:
        value = entity.get("value")
        if entity.get("entity") == entity_type and value and value not in found:
            found.append(str(value))
    return found


def bot_action_before_latest_message(tracker: DialogueStateTracker) -> str | None:
    """The last action the assistant ran before the user's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user:
                return None
            seen_user = True
        elif (
            seen_user
            and isinstance(event, ActionExecuted)
            and event.action_name not in (None, ACTION_LISTEN_NAME)
        ):
            return event.action_name
    return None


def urgent_plan(
    categories: List[str],
    loop_was_active: bool,
    emergency_response: str,
    self_harm_response: str,
    self_harm_categories: List[str],
) -> List[str]:
    """The actions that answer a message with these red-flag categories."""
    plan: List[str] = []
    if any(category in self_harm_categories for category in categories):
        plan.append(self_harm_response)
    if any(category not in self_harm_categories for category in categories):
        plan.append(emergency_response)
    if loop_was_active:
        plan.append(ACTION_DEACTIVATE_LOOP_NAME)
    plan.append(ACTION_LISTEN_NAME)
    return plan


def actions_since_last_user_message(tracker: DialogueStateTracker) -> List[str]:
    actions: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            actions.append(event.action_name)
    return list(reversed(actions))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class RedFlagPolicy(Policy):
    """Predicts the urgent-care sequence whenever the user message has a red flag."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "priority": 10,
            "emergency_response": "utter_red_flag_emergency",
            "self_harm_response": "utter_red_flag_self_harm",
            "self_harm_categories": ["self_harm"],
            "screen_prefix": "utter_red_flag_screen_",
            "screen_clear_response": "utter_red_flag_screen_clear",
        }

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def plan(self, tracker: DialogueStateTracker, domain: Domain) -> List[str]:
        """The whole answer to the latest user message, or [] when it is not this
        policy's to give."""
        self_harm = list(self.config["self_harm_categories"])
        done = actions_since_last_user_message(tracker)
        loop_was_active = tracker.active_loop_name is not None or (
            ACTION_DEACTIVATE_LOOP_NAME in done
        )

        def urgent(categories: List[str]) -> List[str]:
            return urgent_plan(
                categories,
                loop_was_active,
                self.config["emergency_response"],
                self.config["self_harm_response"],
                self_harm,
            )

        categories = red_flag_categories(tracker.latest_message)
        suspected = red_flag_categories(tracker.latest_message, SUSPECTED_ENTITY)
        if categories:
            # Self-harm suspected beside another sign: the crisis line comes too.
            return urgent(categories + [c for c in suspected if c in self_harm])
        if suspected:
            if any(category in self_harm for category in suspected):
                return urgent([c for c in suspected if c in self_harm])
            screen = self.config["screen_prefix"] + suspected[0]
            if screen in domain.action_names_or_texts:
                return [screen, ACTION_LISTEN_NAME]
            return urgent(suspected[:1])  # no question for it: err on the safe side
        asked = bot_action_before_latest_message(tracker)
        prefix = self.config["screen_prefix"]
        if asked is None or not asked.startswith(prefix):
            return []
        intent = (tracker.latest_message.intent or {}).get("name")
        if intent == AFFIRM:
            return urgent([asked[len(prefix) :]])
        if intent != DENY:
            return []
        plan = [self.config["screen_clear_response"]]
        requested = tracker.get_slot(REQUESTED_SLOT) if tracker.active_loop_name else None
        if requested and f"utter_ask_{requested}" in domain.action_names_or_texts:
            plan.append(f"utter_ask_{requested}")
        return plan + [ACTION_LISTEN_NAME]

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        """The next step of the plan, or None when no warning sign is being handled."""
        plan = self.plan(tracker, domain)
        if not plan:
            return None
        done = actions_since_last_user_message(tracker)
        if done[: len(plan)] != plan[: len(done)] or len(done) >= len(plan):
            return None
        return plan[len(done)]

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker, domain)
        if action is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        # Marked as a "no user" prediction: those are the only ones that can overrule
        # RulePolicy's prediction to continue an active form.
        return self._prediction(probabilities, is_no_user_prediction=True)
