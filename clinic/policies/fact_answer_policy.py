"""Answers a question about the articles' facts with those facts, in or out of a form.

``FactRetriever`` marks a message with ``fact`` entities (a fact id, or ``not_covered``).
Right after such a message this policy predicts ``action_answer_facts`` (the facts' own
answers, or the honest "not covered" reply), then:

- the active form again, when one is active: it asks its question again (it does not
  validate the question as an answer: the last action before it was not action_listen);
- ``action_start_symptom_guide`` and ``symptom_form`` when the person also reported their
  own complaint ("my neck has hurt for 3 weeks, which muscles are involved?");
- ``action_listen`` otherwise (the answer itself offered the guide for a question about
  a complaint: "which muscles cause neck pain?" does not start the safety questions).

It leaves the message to the other policies when there is a warning sign (RedFlagPolicy
outranks it anyway), when the intent has its own rule first (booking, a person, stop,
clinic details, yes/no), when a complaint is reported without any question, in any form
when the message asks nothing ("it radiates into my shoulders" answers what the pain feels
like), and while a booking or call-back form waits for a slot that
``clinic.booking.slot_answer`` calls the message an answer to ("Cy Park"). Its
predictions are "no user" predictions at confidence 1, the kind that can overrule
RulePolicy's continuation of an active form, and its priority sits below RedFlagPolicy's.
Config (defaults)::

    - name: clinic.policies.fact_answer_policy.FactAnswerPolicy
      priority: 8
      answer_action: action_answer_facts
      forms_with_answers: [booking_form, callback_form]
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import (
    ACTION_DEFAULT_FALLBACK_NAME,
    ACTION_LISTEN_NAME,
    REQUESTED_SLOT,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, LoopInterrupted
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.booking.slot_answer import SLOTS, Kind, decide
from clinic.facts import (
    COMPLAINT_AREAS,
    OWN_RULE_INTENTS,
    asks_something,
    found_facts,
    reports_complaint,
)
from clinic.policies.red_flag_policy import (
    SUSPECTED_ENTITY,
    actions_since_last_user_message,
    red_flag_categories,
)

START_GUIDE = ["action_start_symptom_guide", "symptom_form"]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class FactAnswerPolicy(Policy):
    """Predicts action_answer_facts for a message with facts found, then what follows."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "priority": 8,
            "answer_action": "action_answer_facts",
            "forms_with_answers": ["booking_form", "callback_form"],
        }

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def _answers(self, tracker: DialogueStateTracker) -> bool:
        """Whether the latest user message is this policy's to answer."""
        message = tracker.latest_message
        if message is None or not found_facts(message.entities):
            return False
        if red_flag_categories(message) or red_flag_categories(message, SUSPECTED_ENTITY):
            return False
        intent = (message.intent or {}).get("name")
        text = message.text or ""
        if intent in OWN_RULE_INTENTS:
            return False
        if intent in COMPLAINT_AREAS and not asks_something(text):
            return False  # a complaint told, not asked about: the symptom guide's
        if tracker.active_loop_name and not asks_something(text):
            return False  # "it radiates into my shoulders" answers what it feels like
        requested = tracker.get_slot(REQUESTED_SLOT)
        answers_form = (
            tracker.active_loop_name in self.config["forms_with_answers"]
            and requested in SLOTS
            and decide(requested, text, intent).kind is Kind.ANSWER
        )
        return not answers_form

    def plan(self, tracker: DialogueStateTracker) -> List[str]:
        """The whole answer to the latest user message, or [] when it is not this
        policy's to give."""
        if not self._answers(tracker):
            return []
        message = tracker.latest_message
        intent = (message.intent or {}).get("name") if message else None
        plan = [str(self.config["answer_action"])]
        if tracker.active_loop_name:
            return plan + [tracker.active_loop_name]
        if message is not None and reports_complaint(message.text or "", intent):
            return plan + START_GUIDE
        return plan + [ACTION_LISTEN_NAME]

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if last_action_logged(tracker) == ACTION_DEFAULT_FALLBACK_NAME:
            # Rasa's fallback takes the visitor's message back (UserUtteranceReverted), so
            # the state is the one before it: after a fact's answer and its offer no rule
            # follows, and RulePolicy's own fallback predicted the fallback again, up to
            # Rasa's ten predictions. After the fallback the assistant listens.
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        plan = self.plan(tracker)
        done = actions_since_last_user_message(tracker)
        if not plan or done != plan[: len(done)] or len(done) >= len(plan):
            return self._prediction(probabilities)
        action = plan[len(done)]
        if action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        # The form's question is not validated against a message that was a question.
        events = [LoopInterrupted(True)] if tracker.active_loop_name and not done else []
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)


def last_action_logged(tracker: DialogueStateTracker) -> str | None:
    """The last action logged on the tracker, counting actions a later revert undid."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            return event.action_name
    return None
