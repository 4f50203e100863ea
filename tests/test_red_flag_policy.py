"""RedFlagPolicy: a warning sign wins over every rule, story and form."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.policies.red_flag_policy import RedFlagPolicy, red_flag_categories, urgent_plan

ROOT = Path(__file__).resolve().parents[1]
EMERGENCY, SELF_HARM = "utter_red_flag_emergency", "utter_red_flag_self_harm"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> RedFlagPolicy:
    config = {**RedFlagPolicy.get_default_config()}
    context = ExecutionContext(GraphSchema({}), "test")
    return RedFlagPolicy.create(config, LocalModelStorage(tmp_path), Resource("rf"), context)


def user(text: str, intent: str, *categories: str) -> UserUttered:
    entities = [{"entity": "red_flag", "value": c, "start": 0, "end": 1} for c in categories]
    return UserUttered(text, {"name": intent, "confidence": 0.9}, entities)


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "visitor",
        [ActionExecuted("action_session_start"), ActionExecuted("action_listen"), *events],
    )


def predicted(policy: RedFlagPolicy, domain: Domain, t: DialogueStateTracker) -> str | None:
    prediction = policy.predict_action_probabilities(t, domain)
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


def test_categories_are_read_from_red_flag_entities_only_once_each():
    message = UserUttered(
        "x",
        {"name": "back_pain"},
        [
            {"entity": "red_flag", "value": "cauda_equina"},
            {"entity": "body_part", "value": "back"},
            {"entity": "red_flag", "value": "cauda_equina"},
            {"entity": "red_flag", "value": "self_harm"},
        ],
    )
    assert red_flag_categories(message) == ["cauda_equina", "self_harm"]
    assert red_flag_categories(None) == []


@pytest.mark.parametrize(
    ("categories", "loop", "plan"),
    [
        (["cardiac"], False, [EMERGENCY, "action_listen"]),
        (["cardiac"], True, [EMERGENCY, "action_deactivate_loop", "action_listen"]),
        (["self_harm"], False, [SELF_HARM, "action_listen"]),
        (
            ["self_harm", "trauma"],
            True,
            [SELF_HARM, EMERGENCY, "action_deactivate_loop", "action_listen"],
        ),
    ],
)
def test_the_urgent_plan_fits_the_categories_and_the_active_form(categories, loop, plan):
    assert urgent_plan(categories, loop, EMERGENCY, SELF_HARM, ["self_harm"]) == plan


def test_a_red_flag_outside_a_form_gets_the_emergency_reply_then_listens(policy, domain):
    t = tracker(user("my back hurts and i can't control my bladder", "back_pain", "cauda_equina"))
    assert predicted(policy, domain, t) == EMERGENCY
    t.update(ActionExecuted(EMERGENCY))
    assert predicted(policy, domain, t) == "action_listen"


def test_a_red_flag_inside_a_form_stops_the_form(policy, domain):
    t = tracker(
        ActiveLoop("symptom_form"),
        ActionExecuted("symptom_form"),
        ActionExecuted("action_listen"),
        user("suddenly the worst headache of my life", "inform", "thunderclap_headache"),
    )
    assert predicted(policy, domain, t) == EMERGENCY
    t.update(ActionExecuted(EMERGENCY))
    assert predicted(policy, domain, t) == "action_deactivate_loop"
    t.update(ActionExecuted("action_deactivate_loop"))
    t.update(ActiveLoop(None))
    assert predicted(policy, domain, t) == "action_listen"


def test_no_red_flag_means_no_opinion(policy, domain):
    t = tracker(user("is it safe?", "ask_safety"))
    assert predicted(policy, domain, t) is None


def test_the_plan_is_not_repeated_after_the_next_user_message(policy, domain):
    t = tracker(
        user("chest pain", "out_of_scope", "cardiac"),
        ActionExecuted(EMERGENCY),
        ActionExecuted("action_listen"),
        user("ok thank you", "thank"),
    )
    assert predicted(policy, domain, t) is None


def test_the_red_flag_prediction_overrules_a_form_continuing(policy, domain):
    t = tracker(
        ActiveLoop("symptom_form"),
        ActionExecuted("symptom_form"),
        ActionExecuted("action_listen"),
        user("i also have chest pain", "inform", "cardiac"),
    )
    # What RulePolicy predicts for an active form: the form, as a "no user" prediction.
    probabilities = [0.0] * domain.num_actions
    probabilities[domain.index_for_action("symptom_form")] = 1.0
    form_goes_on = PolicyPrediction(
        probabilities, "RulePolicy", RULE_POLICY_PRIORITY, is_no_user_prediction=True
    )
    red_flag_prediction = policy.predict_action_probabilities(t, domain)
    best = DefaultPolicyPredictionEnsemble._pick_best_policy([form_goes_on, red_flag_prediction])
    assert domain.action_names_or_texts[best.max_confidence_index] == EMERGENCY


# The learned detector's weaker evidence: one screening question


def suspected(text: str, intent: str, category: str) -> UserUttered:
    entity = {"entity": "red_flag_suspected", "value": category, "start": 0, "end": len(text)}
    return UserUttered(text, {"name": intent, "confidence": 0.9}, [entity])


SCREEN = "utter_red_flag_screen_cauda_equina"


def test_a_suspected_sign_gets_its_screening_question_then_listens(policy, domain):
    t = tracker(suspected("it's all gone weird down below", "back_pain", "cauda_equina"))
    assert predicted(policy, domain, t) == SCREEN
    t.update(ActionExecuted(SCREEN))
    assert predicted(policy, domain, t) == "action_listen"


def test_a_rule_finding_wins_over_a_suspicion_in_the_same_message(policy, domain):
    message = user("chest pain", "out_of_scope", "cardiac")
    message.entities.append({"entity": "red_flag_suspected", "value": "cauda_equina"})
    assert predicted(policy, domain, tracker(message)) == EMERGENCY


def test_self_harm_suspected_beside_a_rule_finding_brings_the_crisis_line_too(policy, domain):
    message = user("he has a rope in his car since the crash", "out_of_scope", "trauma")
    message.entities.append({"entity": "red_flag_suspected", "value": "self_harm"})
    t = tracker(message)
    assert predicted(policy, domain, t) == SELF_HARM
    t.update(ActionExecuted(SELF_HARM))
    assert predicted(policy, domain, t) == EMERGENCY


def test_suspected_self_harm_gets_the_crisis_reply_at_once_not_a_question(policy, domain):
    t = tracker(suspected("everyone would be fine without me", "feeling_low", "self_harm"))
    assert predicted(policy, domain, t) == SELF_HARM


def screened(*answer_events) -> DialogueStateTracker:
    return tracker(
        suspected("it's all gone weird down below", "back_pain", "cauda_equina"),
        ActionExecuted(SCREEN),
        ActionExecuted("action_listen"),
        *answer_events,
    )


def test_yes_to_the_screening_question_gets_the_urgent_reply(policy, domain):
    t = screened(user("yes", "affirm"))
    assert predicted(policy, domain, t) == EMERGENCY
    t.update(ActionExecuted(EMERGENCY))
    assert predicted(policy, domain, t) == "action_listen"


def test_no_to_the_screening_question_reassures_and_goes_on(policy, domain):
    t = screened(user("no", "deny"))
    assert predicted(policy, domain, t) == "utter_red_flag_screen_clear"
    t.update(ActionExecuted("utter_red_flag_screen_clear"))
    assert predicted(policy, domain, t) == "action_listen"


def test_no_to_the_screening_question_in_a_form_asks_the_form_question_again(policy, domain):
    from rasa.shared.core.events import SlotSet

    t = tracker(
        ActiveLoop("booking_form"),
        SlotSet("requested_slot", "phone"),
        ActionExecuted("booking_form"),
        ActionExecuted("action_listen"),
        suspected("my legs keep going from under me", "inform", "cauda_equina"),
    )
    assert predicted(policy, domain, t) == SCREEN
    t.update(ActionExecuted(SCREEN))
    t.update(ActionExecuted("action_listen"))
    t.update(user("no", "deny"))
    assert predicted(policy, domain, t) == "utter_red_flag_screen_clear"
    t.update(ActionExecuted("utter_red_flag_screen_clear"))
    assert predicted(policy, domain, t) == "utter_ask_phone"
    t.update(ActionExecuted("utter_ask_phone"))
    assert predicted(policy, domain, t) == "action_listen"
    assert t.active_loop_name == "booking_form"


def test_a_yes_to_the_screening_question_in_a_form_stops_the_form(policy, domain):
    t = tracker(
        ActiveLoop("booking_form"),
        ActionExecuted("booking_form"),
        ActionExecuted("action_listen"),
        suspected("my legs keep going from under me", "inform", "cauda_equina"),
        ActionExecuted(SCREEN),
        ActionExecuted("action_listen"),
        user("yes", "affirm"),
    )
    assert predicted(policy, domain, t) == EMERGENCY
    t.update(ActionExecuted(EMERGENCY))
    assert predicted(policy, domain, t) == "action_deactivate_loop"


def test_another_question_after_the_screening_question_is_left_to_the_other_policies(
    policy, domain
):
    assert predicted(policy, domain, screened(user("how much is it?", "ask_clinic_info"))) is None


def test_an_affirm_without_a_screening_question_before_it_is_not_this_policys(policy, domain):
    assert predicted(policy, domain, tracker(user("yes", "affirm"))) is None


def test_every_category_but_self_harm_has_a_screening_question(domain):
    from tests.test_red_flags import CONTRACT_CATEGORIES

    for category in CONTRACT_CATEGORIES - {"self_harm"}:
        assert f"utter_red_flag_screen_{category}" in domain.responses
