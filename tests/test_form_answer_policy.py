"""FormAnswerPolicy: an answer the slot mappings turned away for its intent is still
put into the requested slot; a real question is left to the rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.policies.form_answer_policy import FormAnswerPolicy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> FormAnswerPolicy:
    context = ExecutionContext(GraphSchema({}), "test")
    return FormAnswerPolicy.create(
        FormAnswerPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("form_answers"),
        context,
    )


def asking(
    slot: str, text: str, intent: str, form: str = "booking_form", entities=None, *after
) -> DialogueStateTracker:
    """A conversation where ``form`` asked for ``slot`` and the visitor said ``text``."""
    return DialogueStateTracker.from_events(
        "visitor",
        [
            ActionExecuted("action_listen"),
            UserUttered("i'd like to book", {"name": "book_appointment"}),
            ActionExecuted(form),
            ActiveLoop(form),
            SlotSet(REQUESTED_SLOT, slot),
            ActionExecuted("action_listen"),
            UserUttered(text, {"name": intent}, entities or []),
            *after,
        ],
    )


@pytest.mark.parametrize("form", ["booking_form", "callback_form"])
@pytest.mark.parametrize(
    ("text", "intent"),
    [("Cy Park", "ask_clinic_info"), ("Philippa Greenhalgh", "ask_suitability")],
)
def test_a_name_classified_as_a_question_is_put_into_the_name_slot(
    policy, domain, form, text, intent
):
    prediction = policy.predict_action_probabilities(
        asking("patient_name", text, intent, form), domain
    )
    assert prediction.events == [SlotSet("patient_name", text)]
    assert max(prediction.probabilities) == 0.0  # it never chooses an action


def test_a_time_classified_as_a_clinic_question_is_put_into_the_time_slot(policy, domain):
    tracker = asking("preferred_start", "saturday morning", "ask_clinic_info")
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.events == [SlotSet("preferred_start", "saturday morning")]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("where do I park?", "ask_clinic_info"), ("is it safe", "ask_safety"), ("yes", "affirm")],
)
def test_a_question_or_a_yes_is_not_made_into_a_name(policy, domain, text, intent):
    prediction = policy.predict_action_probabilities(asking("patient_name", text, intent), domain)
    assert prediction.events == []


def test_a_slot_the_mappings_already_set_is_left_alone(policy, domain):
    tracker = asking(
        "patient_name",
        "Ann Lee",
        "inform",
        "booking_form",
        None,
        SlotSet("patient_name", "Ann Lee"),
    )
    assert policy.predict_action_probabilities(tracker, domain).events == []


def test_a_message_with_a_warning_sign_is_left_to_the_red_flag_policy(policy, domain):
    entities = [{"entity": "red_flag", "value": "cardiac", "start": 0, "end": 4}]
    tracker = asking("patient_name", "Cy Park", "ask_clinic_info", "booking_form", entities)
    assert policy.predict_action_probabilities(tracker, domain).events == []


def test_nothing_is_set_once_the_form_has_run_or_without_a_form(policy, domain):
    ran = asking("patient_name", "Cy Park", "ask_clinic_info", "booking_form", None,
                 ActionExecuted("booking_form"))  # fmt: skip
    assert policy.predict_action_probabilities(ran, domain).events == []
    other = asking("symptom_duration", "Cy Park", "ask_clinic_info", "symptom_form")
    assert policy.predict_action_probabilities(other, domain).events == []
