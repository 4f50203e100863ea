"""The domain keeps the fixed contract and every piece of it is reachable."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from clinic.action_proxy import UNAVAILABLE_RESPONSE
from clinic.booking.reasons import Reason
from clinic.facts import AREAS
from clinic.policies.red_flag_policy import RedFlagPolicy
from tests.test_red_flags import CONTRACT_CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_INTENTS = set(
    "greet goodbye affirm deny thank bot_challenge out_of_scope ask_what_is_dry_needling "
    "ask_acupuncture_difference ask_how_it_works ask_safety ask_soreness ask_what_to_expect "
    "ask_effectiveness ask_practitioner ask_treatment_plan ask_suitability back_pain neck_pain "
    "headache feeling_low book_appointment ask_clinic_info request_human".split()
)


def sent_by_actions() -> set[str]:
    """Responses the custom actions name: literal names, and one per refusal code."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    names = set(re.findall(r'"(utter_[a-z_]+)"', source))
    if "utter_booking_time_{" in source:
        names |= {f"utter_booking_time_{reason.value}" for reason in Reason}
    if 'f"utter_fact_{value}"' in source:  # actions/facts.py: one answer per fact
        facts = yaml.safe_load((ROOT / "data" / "facts" / "facts.yml").read_text("utf-8"))
        names |= {f"utter_fact_{fact['id']}" for fact in facts}
    if 'f"utter_fact_offer_guide_{area}"' in source:
        names |= {f"utter_fact_offer_guide_{area}" for area in AREAS}
    return names


# Rasa's built-in action_default_fallback sends utter_default; RedFlagPolicy its replies;
# the action proxy names the apology when the action server fails.
_RED_FLAG = RedFlagPolicy.get_default_config()
SENT_BY_RASA = {
    "utter_default",
    UNAVAILABLE_RESPONSE,
    _RED_FLAG["emergency_response"],
    _RED_FLAG["self_harm_response"],
    _RED_FLAG["screen_clear_response"],
} | {
    # one screening question per category but self-harm (which gets the crisis reply)
    _RED_FLAG["screen_prefix"] + category
    for category in CONTRACT_CATEGORIES - set(_RED_FLAG["self_harm_categories"])
}


def form_questions(domain) -> set[str]:
    """utter_ask_<slot> responses, asked by the forms for their slots."""
    return {f"utter_ask_{slot}" for slot in domain["slots"]} & set(domain["responses"])


def story_steps() -> list[dict]:
    steps: list[dict] = []
    for path in sorted((ROOT / "data").glob("*/*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(content, dict):  # data/red_flags/: case lists, not dialogue
            continue
        for block in content.get("rules", []) + content.get("stories", []):
            steps.extend(block.get("steps", []))
    return steps


def nlu_intents() -> set[str]:
    intents: set[str] = set()
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        intents.update(item["intent"] for item in content.get("nlu", []) if "intent" in item)
    return intents


def test_the_domain_declares_every_contract_intent_and_entity(domain):
    assert CONTRACT_INTENTS <= set(domain["intents"])
    entities = {e if isinstance(e, str) else next(iter(e)) for e in domain["entities"]}
    assert {"red_flag", "body_part"} <= entities


def test_every_domain_intent_has_training_examples(domain):
    assert set(domain["intents"]) - nlu_intents() == set()


def test_every_domain_intent_is_handled_by_a_rule_or_story(domain):
    handled = {step["intent"] for step in story_steps() if "intent" in step}
    handled |= {alt["intent"] for step in story_steps() for alt in step.get("or", [])}
    assert set(domain["intents"]) - handled == set()


def test_every_response_is_used_by_a_rule_a_story_or_an_action(domain):
    used = {step["action"] for step in story_steps() if "action" in step}
    unused = (
        set(domain["responses"]) - used - sent_by_actions() - SENT_BY_RASA - form_questions(domain)
    )
    assert unused == set()


def test_every_action_in_rules_and_stories_exists(domain):
    built_in = {"action_deactivate_loop", "action_listen"}
    known = set(domain["responses"]) | set(domain["actions"]) | set(domain["forms"]) | built_in
    used = {step["action"] for step in story_steps() if "action" in step}
    assert used - known == set()


def test_the_action_proxys_apology_says_what_the_chat_gateway_says(domain):
    """The visitor reads the same apology whether the action server or Rasa failed."""
    messages = yaml.safe_load((ROOT / "clinic" / "web" / "messages.yml").read_text("utf-8"))
    [response] = domain["responses"][UNAVAILABLE_RESPONSE]
    assert response["text"] == messages["gateway"]["apology"]
    assert "{clinic_phone}" in response["text"]
