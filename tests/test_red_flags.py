"""RedFlagExtractor: emergency warning signs as red_flag entities, not their look-alikes.

The rules' own cases live in data/red_flags/seed_*.yml and must all pass here; the
larger development and held-out sets are measured by scripts/red_flag_report.py
(make test-red-flags), which fails below the held-out bar.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import List

import pytest
import yaml
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic.nlu.red_flag_extractor import PROJECT_ROOT, RedFlagExtractor
from clinic.nlu.red_flag_rules import RedFlagDetector, expand, load_rules
from clinic.nlu.spacy_pipeline import build_pipeline, read_patterns

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "clinic" / "nlu" / "red_flags.yml"
CASES = ROOT / "data" / "red_flags"
POSITIVES = yaml.safe_load((CASES / "seed_positives.yml").read_text(encoding="utf-8"))
NEAR_MISSES = yaml.safe_load((CASES / "seed_near_misses.yml").read_text(encoding="utf-8"))
CONTRACT_CATEGORIES = {
    "cauda_equina",
    "thunderclap_headache",
    "neuro_deficit",
    "cervical_artery",
    "trauma",
    "infection",
    "cancer",
    "cardiac",
    "self_harm",
}


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(read_patterns())


@pytest.fixture(scope="module")
def extractor() -> RedFlagExtractor:
    return RedFlagExtractor(RedFlagExtractor.get_default_config())


def message_with_doc(nlp, text: str) -> Message:
    """A message as Rasa's SpacyNLP leaves it: the doc of the lower-cased text."""
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text.lower()))
    return message


def red_flags(nlp, extractor: RedFlagExtractor, text: str) -> List[str]:
    (message,) = extractor.process([message_with_doc(nlp, text)])
    entities = message.get(ENTITIES) or []
    return [e["value"] for e in entities if e["entity"] == "red_flag"]


# The data files


def test_the_case_files_cover_every_category_with_enough_cases():
    assert len(POSITIVES) >= 80
    assert len(NEAR_MISSES) >= 60
    assert {case["category"] for case in POSITIVES} == CONTRACT_CATEGORIES
    per_category = [case["category"] for case in POSITIVES]
    assert min(per_category.count(category) for category in CONTRACT_CATEGORIES) >= 8
    assert len({case["text"].lower() for case in POSITIVES}) == len(POSITIVES)
    assert len({text.lower() for text in NEAR_MISSES}) == len(NEAR_MISSES)


@pytest.mark.parametrize("case", POSITIVES, ids=[case["text"][:60] for case in POSITIVES])
def test_every_positive_raises_its_red_flag(nlp, extractor, case):
    assert case["category"] in red_flags(nlp, extractor, case["text"])


@pytest.mark.parametrize("text", NEAR_MISSES, ids=[text[:60] for text in NEAR_MISSES])
def test_no_near_miss_raises_a_red_flag(nlp, extractor, text):
    assert red_flags(nlp, extractor, text) == []


# Context: negation, hypothetical questions, the past, other people


@pytest.mark.parametrize(
    ("negated", "affirmed", "category"),
    [
        ("no fever and my back hurts", "fever and my back hurts", "infection"),
        ("I don't have any numbness in my groin", "I have numbness in my groin", "cauda_equina"),
        ("no loss of bladder control", "loss of bladder control", "cauda_equina"),
        ("without weakness in my legs", "with weakness in my legs", "cauda_equina"),
        ("never had chest pain", "had chest pain today", "cardiac"),
        ("denies chest pain", "reports chest pain", "cardiac"),
        ("not dizzy, neck is sore", "dizzy, neck is sore", "cervical_artery"),
        ("i'm not suicidal", "i'm suicidal", "self_harm"),
        ("free of chest pain for a year", "chest pain for a day", "cardiac"),
        ("no sign of double vision", "i have double vision", "cervical_artery"),
    ],
)
def test_a_negation_cue_in_the_same_clause_cancels_the_flag(
    nlp, extractor, negated, affirmed, category
):
    assert category not in red_flags(nlp, extractor, negated)
    assert category in red_flags(nlp, extractor, affirmed)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("no fever, but now I can't control my bladder", "cauda_equina"),
        ("no headache; my face is drooping", "neuro_deficit"),
        ("nothing much except numbness in my groin", "cauda_equina"),
        ("not sure why but i have chest pain", "cardiac"),
        ("no longer able to control my bladder", "cauda_equina"),
        ("no reason to live", "self_harm"),
        ("i don't want to live anymore", "self_harm"),
        ("i can't pee", "cauda_equina"),
        ("no appointment booked with you for the last two weeks i have had chest pain", "cardiac"),
    ],
)
def test_negation_stops_at_the_clause_end_and_pseudo_negations_do_not_negate(
    nlp, extractor, text, category
):
    assert category in red_flags(nlp, extractor, text)


@pytest.mark.parametrize(
    "text",
    [
        "can dry needling cause a stroke?",
        "could it cause chest pain",
        "what is the risk of meningitis after needling",
        "what if i get numbness in my groin",
        "is it safe for my neck if i get dizzy",
        "what are the warning signs of a stroke",
        "my mum had cancer and my back hurts",
        "I had a car accident ten years ago",
    ],
)
def test_questions_about_risks_the_past_and_other_people_are_not_flags(nlp, extractor, text):
    assert red_flags(nlp, extractor, text) == []


@pytest.mark.parametrize(
    ("past", "returned"),
    [
        (
            "i used to self harm as a teen, haven't for over a decade",
            "i used to self harm as a teen and i've started again",
        ),
        (
            "i tried to kill myself years ago, i've been well ever since",
            "i tried to kill myself years ago and the thoughts are back",
        ),
    ],
)
def test_a_self_harm_past_is_history_until_it_comes_back(nlp, extractor, past, returned):
    assert red_flags(nlp, extractor, past) == []
    assert red_flags(nlp, extractor, returned) == ["self_harm"]


@pytest.mark.parametrize(
    ("joke", "meant"),
    [
        ("my quads genuinely want to die after leg day", "my legs hurt so much i want to die"),
        ("my hamstrings want to end it all", "my hamstrings are sore and i want to end it all"),
    ],
)
def test_sore_muscles_wanting_to_die_are_a_joke_but_a_person_wanting_to_is_not(
    nlp, extractor, joke, meant
):
    assert red_flags(nlp, extractor, joke) == []
    assert red_flags(nlp, extractor, meant) == ["self_harm"]


def test_self_harm_counts_even_when_phrased_as_a_condition(nlp, extractor):
    assert red_flags(nlp, extractor, "if this pain doesn't stop i'll kill myself") == ["self_harm"]


# The entities


def test_each_category_is_reported_once_per_message_in_text_order(nlp, extractor):
    text = "chest pain, tight chest and pressure in my chest. also i can't pee. chest pain again"
    assert red_flags(nlp, extractor, text) == ["cardiac", "cauda_equina"]


def test_the_entity_is_red_flag_with_the_category_as_value_and_the_evidence_span(nlp, extractor):
    text = "My back hurts and since yesterday I can't control my bladder, also what are your hours?"
    (message,) = extractor.process([message_with_doc(nlp, text)])
    (entity,) = message.get(ENTITIES)
    assert entity == {
        "entity": "red_flag",
        "value": "cauda_equina",
        "start": entity["start"],
        "end": entity["end"],
        "confidence_entity": 1.0,
        "extractor": "RedFlagExtractor",
    }
    assert text[entity["start"] : entity["end"]] == "can't control my bladder"


def test_the_flag_is_added_to_the_other_entities_whatever_the_intent(nlp, extractor):
    message = message_with_doc(nlp, "worst headache of my life, are you open today?")
    message.set(INTENT, {"name": "ask_clinic_info", "confidence": 0.99})
    message.set(ENTITIES, [{"entity": "clinic_topic", "value": "hours", "start": 27, "end": 31}])
    extractor.process([message])
    assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [
        ("clinic_topic", "hours"),
        ("red_flag", "thunderclap_headache"),
    ]


def test_the_extractor_leaves_messages_without_a_doc_alone(extractor):
    message = Message(data={TEXT: "i can't control my bladder"})
    extractor.process([message])
    assert message.get(ENTITIES) is None


def test_a_message_without_red_flags_gets_no_entities(nlp, extractor):
    (message,) = extractor.process([message_with_doc(nlp, "how much is a session?")])
    assert message.get(ENTITIES) is None


# The component and its rule file


def test_the_component_needs_spacy_nlp_and_defaults_to_the_project_rule_file():
    assert RedFlagExtractor.required_components() == [SpacyNLP]
    assert RedFlagExtractor.get_default_config() == {"patterns": "clinic/nlu/red_flags.yml"}
    assert PROJECT_ROOT / RedFlagExtractor.get_default_config()["patterns"] == RULES


def test_a_relative_rule_path_is_resolved_from_the_project_root_not_the_cwd(
    nlp, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    extractor = RedFlagExtractor({"patterns": "clinic/nlu/red_flags.yml"})
    assert red_flags(nlp, extractor, "i'm suicidal") == ["self_harm"]


def test_an_absolute_rule_path_is_read_when_the_component_is_made(nlp, tmp_path):
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules["categories"] = {
        "test_flag": {"source": "a test", "patterns": ["purple (elephant|elephants)"]}
    }
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    extractor = RedFlagExtractor({"patterns": str(path)})
    path.unlink()  # already loaded
    assert red_flags(nlp, extractor, "I see purple elephants") == ["test_flag"]
    assert red_flags(nlp, extractor, "I see no purple elephants") == []


def test_the_rule_file_names_a_clinical_source_for_every_category():
    rules = load_rules(RULES)
    assert set(rules["categories"]) == CONTRACT_CATEGORIES
    for name, category in rules["categories"].items():
        assert len(category["source"].split()) >= 4, name


def test_a_category_without_a_source_is_refused(tmp_path):
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    del rules["categories"]["cardiac"]["source"]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    with pytest.raises(ValueError, match="cardiac has no source"):
        load_rules(path)


def test_a_combination_naming_an_unknown_cue_group_is_refused(tmp_path):
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules["categories"]["self_harm"]["combinations"][0]["cues"] = ["no_such_group"]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    with pytest.raises(ValueError, match="self_harm uses unknown cue group no_such_group"):
        load_rules(path)


def test_every_rule_compiles_to_valid_spacy_matcher_patterns(nlp):
    detector = RedFlagDetector(load_rules(RULES), validate=True)
    assert detector.pattern_count > 1000
    assert detector.find(nlp("chest pain")) != []


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("chest pain", ["chest pain"]),
        ("(my|the)? back", ["my|the? back"]),
        ("(short of breath|breathless)", ["breathless", "short of breath"]),
        ("<x> *2 ~leg", ["a|b *2 ~leg", "c d *2 ~leg"]),
        ("((ca|can) ~not|unable to) pee", ["ca|can ~not pee", "unable to pee"]),
    ],
)
def test_phrases_expand_groups_and_terms_into_token_sequences(phrase, expected):
    assert expand(phrase, {"x": "(a|b|c d)"}) == expected


def load_report():
    spec = importlib.util.spec_from_file_location(
        "red_flag_report", ROOT / "scripts" / "red_flag_report.py"
    )
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    return report


def test_the_report_counts_rules_and_screening_and_self_harm_only_as_self_harm(capsys):
    report = load_report()
    positives = [
        {"text": "chest pain", "category": "cardiac"},
        {"text": "legs went weird", "category": "cauda_equina"},
        {"text": "i'd rather not wake up", "category": "self_harm"},
        {"text": "my neck is stiff", "category": "infection"},
    ]
    near_misses = [{"text": "no chest pain"}, {"text": "chest day at the gym"}]
    recall, false_alarm, hits, _ = report.report(
        "example",
        positives,
        near_misses,
        [("rules", "cardiac"), ("learned", "cauda_equina"), ("learned", "cardiac"), ("none", "")],
        [("none", ""), ("learned", "cardiac")],
        verbose=False,
    )
    assert hits == [True, True, False, False]
    assert (recall, false_alarm) == (0.5, 0.5)
    assert capsys.readouterr().out.splitlines() == [
        "red flags, example: recall 2/4 = 0.500 (1 urgent at once, 1 by screening), "
        "false alarms 1/2 = 0.500 (0 rules, 1 learned)"
    ]


def test_the_report_prefers_the_rules_verdict_and_applies_the_threshold():
    report = load_report()
    cases = [{"text": "a", "category": "cardiac"}, {"text": "b"}, {"text": "c"}]
    rules = {"a": ["trauma", "cardiac"], "b": [], "c": []}
    scores = [{"cardiac": 0.9}, {"cardiac": 0.6, "trauma": 0.1}, {"cardiac": 0.4}]
    verdicts = report.verdicts(lambda case: rules[case["text"]], scores, cases, 0.5)
    assert verdicts == [("rules", "cardiac"), ("learned", "cardiac"), ("none", "")]


def test_the_report_applies_the_lower_self_harm_bar_as_the_component_does():
    report = load_report()
    cases = [{"text": "a"}, {"text": "b"}]
    scores = [{"self_harm": 0.45, "cardiac": 0.1}, {"self_harm": 0.35, "cardiac": 0.1}]
    verdicts = report.verdicts(lambda case: [], scores, cases, 0.5, 0.4)
    assert verdicts == [("learned", "self_harm"), ("none", "")]
    assert report.verdicts(lambda case: [], scores, cases, 0.5) == [("none", ""), ("none", "")]


def test_the_report_drops_a_vetoed_rules_finding_and_self_harm_only_from_its_own_bar():
    report = load_report()
    cases = [{"text": "a"}, {"text": "b"}, {"text": "c"}]
    rules = {"a": ["trauma"], "b": ["self_harm"], "c": ["trauma"]}
    scores = [{"trauma": 0.1}, {"self_harm": 0.1}, {"trauma": 0.1}]
    doubts = [0.9, 0.99, 0.5]
    verdicts = report.verdicts(
        lambda case: rules[case["text"]], scores, cases, 0.5, 0.4, doubts, 0.8
    )
    assert verdicts == [("none", ""), ("rules", "self_harm"), ("rules", "trauma")]
    args = (scores, cases, 0.5, 0.4, doubts, 0.8, 0.95)
    assert report.verdicts(lambda case: rules[case["text"]], *args)[1] == ("none", "")


def test_the_report_counts_self_harm_the_learned_detector_adds_beside_a_rule_finding():
    report = load_report()
    cases = [{"text": "a", "category": "self_harm"}, {"text": "b", "category": "self_harm"}]
    scores = [{"self_harm": 0.35, "trauma": 0.2}, {"self_harm": 0.1, "trauma": 0.2}]
    verdicts = report.verdicts(lambda case: ["trauma"], scores, cases, 0.5, 0.3)
    assert verdicts == [("rules", "self_harm"), ("rules", "trauma")]
