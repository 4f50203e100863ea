"""ClinicFactsPolicy: clinic.yml's facts reach every reply, even after a lost session start."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.policies.clinic_facts_policy import ClinicFactsPolicy
from clinic.settings import ClinicProfile, clinic_slots

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> ClinicFactsPolicy:
    context = ExecutionContext(GraphSchema({}), "test")
    return ClinicFactsPolicy.create(
        ClinicFactsPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("facts"),
        context,
    )


def without_session_start(*events) -> DialogueStateTracker:
    """A conversation whose action_session_start never reached the action server."""
    return DialogueStateTracker.from_events(
        "visitor",
        [ActionExecuted("action_listen"), UserUttered("chest pain", {"name": "greet"}), *events],
    )


def test_every_empty_clinic_slot_is_filled_from_clinic_yml(
    policy: ClinicFactsPolicy, domain: Domain, clinic: ClinicProfile
):
    prediction = policy.predict_action_probabilities(without_session_start(), domain)
    assert prediction.events == [SlotSet(n, v) for n, v in clinic_slots(clinic).items()]
    assert {slot.name for slot in domain.slots} >= set(clinic_slots(clinic))
    assert "emergency_number" in {event.key for event in prediction.events}


def test_slots_already_set_are_left_alone(
    policy: ClinicFactsPolicy, domain: Domain, clinic: ClinicProfile
):
    facts = clinic_slots(clinic)
    set_already = [SlotSet(name, value) for name, value in facts.items()]
    prediction = policy.predict_action_probabilities(without_session_start(*set_already), domain)
    assert prediction.events == []
    changed = [SlotSet("clinic_phone", "+1 000"), *set_already[:1]]
    prediction = policy.predict_action_probabilities(without_session_start(*changed), domain)
    assert "clinic_phone" not in {event.key for event in prediction.events}
    assert "clinic_name" not in {event.key for event in prediction.events}
    assert "emergency_number" in {event.key for event in prediction.events}


def test_it_never_chooses_an_action_but_its_slots_are_applied_whoever_wins(
    policy: ClinicFactsPolicy, domain: Domain
):
    tracker = without_session_start()
    own = policy.predict_action_probabilities(tracker, domain)
    assert max(own.probabilities) == 0 and own.policy_priority == 0
    winner = [0.0] * len(domain.action_names_or_texts)
    winner[domain.index_for_action("utter_red_flag_emergency")] = 1.0
    other = PolicyPrediction(winner, "RedFlagPolicy", policy_priority=10)
    best = DefaultPolicyPredictionEnsemble().combine_predictions_from_kwargs(
        tracker, domain, a=own, b=other
    )
    assert best.policy_name == "RedFlagPolicy"
    assert [e for e in best.events if isinstance(e, SlotSet)] == own.events != []
