"""ActionServerUnavailablePolicy: after the action proxy's apology, the assistant listens.

Trackers as Rasa logs them (the action, then its events), on the project's domain; the
apology's ``BotUttered`` carries ``utter_action`` as Rasa's ``RemoteAction`` puts it
there (``tests/test_action_proxy.py`` proves that through the real proxy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import yaml
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.action_proxy import UNAVAILABLE_RESPONSE
from clinic.policies.action_server_unavailable_policy import ActionServerUnavailablePolicy
from clinic.policies.red_flag_policy import RedFlagPolicy

ROOT = Path(__file__).resolve().parents[1]
POLICY = "clinic.policies.action_server_unavailable_policy.ActionServerUnavailablePolicy"
RULE_PRIORITY = RulePolicy.get_default_config()["priority"]
RED_FLAG_PRIORITY = RedFlagPolicy.get_default_config()["priority"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> ActionServerUnavailablePolicy:
    return ActionServerUnavailablePolicy.create(
        ActionServerUnavailablePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("unavailable"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def said(response: str) -> BotUttered:
    """A domain response as Rasa logs it when an action's answer names it."""
    return BotUttered("some text", metadata={"utter_action": response})


def conversation(*after_message: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "visitor",
        [
            ActionExecuted("action_listen"),
            UserUttered("i'd like to book an appointment", {"name": "book_appointment"}),
            *after_message,
        ],
    )


def predicted(policy: ActionServerUnavailablePolicy, tracker, domain: Domain) -> List[str]:
    """The actions the policy gives any probability to."""
    prediction = policy.predict_action_probabilities(tracker, domain)
    return [domain.action_names_or_texts[i] for i, p in enumerate(prediction.probabilities) if p]


def test_after_an_action_answered_with_the_apology_it_listens_for_sure(policy, domain):
    tracker = conversation(ActionExecuted("action_start_booking"), said(UNAVAILABLE_RESPONSE))
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.max_confidence == 1.0
    assert domain.action_names_or_texts[prediction.max_confidence_index] == ACTION_LISTEN_NAME


def test_after_a_forms_apology_and_its_question_again_it_listens(policy, domain):
    tracker = conversation(
        ActionExecuted("booking_form"),
        said(UNAVAILABLE_RESPONSE),
        SlotSet("phone", None),
        SlotSet("requested_slot", "phone"),
        said("utter_ask_phone"),
    )
    assert predicted(policy, tracker, domain) == [ACTION_LISTEN_NAME]


def test_an_action_that_answered_normally_is_left_to_the_other_policies(policy, domain):
    tracker = conversation(ActionExecuted("action_start_booking"), said("utter_booking_intro"))
    assert predicted(policy, tracker, domain) == []


def test_an_apology_before_the_latest_action_no_longer_counts(policy, domain):
    tracker = conversation(
        ActionExecuted("action_start_booking"),
        said(UNAVAILABLE_RESPONSE),
        ActionExecuted("action_listen"),
        UserUttered("i'd like to book an appointment", {"name": "book_appointment"}),
    )
    assert predicted(policy, tracker, domain) == []


def config_priorities() -> Dict[str, Any]:
    policies = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["policies"]
    return {p["name"]: p.get("priority") for p in policies}


def test_config_yml_ranks_it_below_red_flag_policy_and_above_rule_policy():
    priorities = config_priorities()
    own = priorities[POLICY]
    assert own == ActionServerUnavailablePolicy.get_default_config()["priority"]
    assert priorities["clinic.policies.red_flag_policy.RedFlagPolicy"] is None  # its default
    assert RULE_PRIORITY < own < RED_FLAG_PRIORITY
    assert priorities["clinic.policies.fact_answer_policy.FactAnswerPolicy"] < own


@pytest.mark.parametrize(
    ("other_policy", "other_priority", "winner"),
    [("RulePolicy", RULE_PRIORITY, POLICY), ("RedFlagPolicy", RED_FLAG_PRIORITY, "RedFlagPolicy")],
)
def test_its_listening_wins_over_rules_and_loses_to_an_urgent_reply(
    policy, domain, other_policy: str, other_priority: int, winner: str
):
    tracker = conversation(ActionExecuted("action_start_booking"), said(UNAVAILABLE_RESPONSE))
    own = policy.predict_action_probabilities(tracker, domain)
    own = PolicyPrediction(own.probabilities, POLICY, policy_priority=own.policy_priority)
    certain = np.zeros(domain.num_actions)
    certain[domain.index_for_action("booking_form")] = 1.0
    other = PolicyPrediction(list(certain), other_policy, policy_priority=other_priority)
    best = DefaultPolicyPredictionEnsemble().combine_predictions_from_kwargs(
        tracker, domain, a=own, b=other
    )
    assert best.policy_name == winner


def started_without_the_proxy(*after_message: Event) -> DialogueStateTracker:
    """A new conversation whose action_session_start call failed (the proxy was down):
    Rasa logged the action and none of its events, then the visitor's message."""
    return DialogueStateTracker.from_events(
        "visitor",
        [
            ActionExecuted("action_session_start"),
            UserUttered("is dry needling safe", {"name": "dry_needling_safety"}),
            *after_message,
        ],
    )


def test_a_first_message_after_a_failed_session_start_gets_the_apology(policy, domain):
    prediction = policy.predict_action_probabilities(started_without_the_proxy(), domain)
    assert prediction.max_confidence == 1.0
    assert domain.action_names_or_texts[prediction.max_confidence_index] == UNAVAILABLE_RESPONSE


def test_after_that_apology_it_listens(policy, domain):
    tracker = started_without_the_proxy(
        ActionExecuted(UNAVAILABLE_RESPONSE), said(UNAVAILABLE_RESPONSE)
    )
    assert predicted(policy, tracker, domain) == [ACTION_LISTEN_NAME]


def test_a_session_that_started_normally_is_left_to_the_other_policies(policy, domain):
    tracker = DialogueStateTracker.from_events(
        "visitor",
        [
            ActionExecuted("action_session_start"),
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("is dry needling safe", {"name": "dry_needling_safety"}),
        ],
    )
    assert predicted(policy, tracker, domain) == []
