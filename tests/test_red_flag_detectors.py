"""The red-flag detector's safety nets: typo correction, two-message matching and
the learned detector (RedFlagClassifier), each through its real component."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlu.red_flag_classifier import RedFlagClassifier
from clinic.nlu.red_flag_extractor import RedFlagExtractor, rule_phrases
from clinic.nlu.red_flag_model import (
    RedFlagModel,
    choose,
    misspell,
    read_cases,
    training_examples,
)
from clinic.nlu.red_flag_rules import load_rules
from clinic.nlu.spacy_pipeline import build_pipeline, read_patterns
from clinic.nlu.typos import TypoNormaliser, english_vocabulary, lexicon_words

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(read_patterns())


@pytest.fixture(scope="module")
def extractor() -> RedFlagExtractor:
    return RedFlagExtractor(RedFlagExtractor.get_default_config())


@pytest.fixture(scope="module")
def typos() -> TypoNormaliser:
    rules = load_rules(ROOT / "clinic" / "nlu" / "red_flags.yml")
    return TypoNormaliser(lexicon_words(rule_phrases(rules)), english_vocabulary())


def flags(nlp, extractor, text: str, previous: str | None = None) -> List[str]:
    tracker = DialogueStateTracker.from_events("visitor", [ActionExecuted("action_listen")])
    if previous is not None:
        tracker.update(UserUttered(previous, {"name": "back_pain"}))
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text.lower()))
    (message,) = extractor.process([message], SpacyModel(nlp, "en_clinic"), tracker)
    return [e["value"] for e in message.get(ENTITIES, []) if e["entity"] == "red_flag"]


# Typos


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("controll", "control"),
        ("bladdr", "bladder"),
        ("seazure", "seizure"),
        ("numbnness", "numbness"),
        ("tinglling", "tingling"),
        ("paralysd", "paralysed"),
    ],
)
def test_a_misspelt_word_of_the_rules_is_put_right(typos, typo, word):
    assert typos.correct(typo) == word


@pytest.mark.parametrize("word", ["chess", "wee", "bowling", "needling", "physio", "leggings"])
def test_a_real_english_word_is_never_changed_into_a_red_flag_word(typos, word):
    assert typos.correct(word) is None


def test_short_words_and_words_with_digits_are_left_alone(typos):
    assert typos.correct("pee") is None
    assert typos.correct("numb3rs") is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i cant controll my bladdr since yesterday", "cauda_equina"),
        ("had two siezures this morning", "neuro_deficit"),
        ("pins and neeedles in my groin", "cauda_equina"),
    ],
)
def test_a_misspelt_warning_sign_is_flagged_with_the_span_of_the_text_as_typed(
    nlp, extractor, text, category
):
    assert category in flags(nlp, extractor, text)


def test_the_entity_span_points_at_the_words_as_typed(nlp, extractor):
    text = "had two siezures this morning"
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text))
    (message,) = extractor.process([message], SpacyModel(nlp, "en_clinic"), None)
    (entity,) = message.get(ENTITIES)
    assert text[entity["start"] : entity["end"]] == "siezures"


# Two messages


def test_a_sign_spread_over_two_messages_is_flagged_on_the_second(nlp, extractor):
    assert flags(nlp, extractor, "and i've had a fever since last night") == []
    assert flags(
        nlp, extractor, "and i've had a fever since last night", previous="my back is really bad"
    ) == ["infection"]


def test_a_sign_already_shown_by_the_previous_message_is_not_reported_again(nlp, extractor):
    previous = "my back hurts and i have a fever"
    assert flags(nlp, extractor, "what are your opening hours?", previous=previous) == []


def test_two_ordinary_messages_together_are_still_ordinary(nlp, extractor):
    assert flags(nlp, extractor, "can i book for friday?", previous="my back is really bad") == []


# The learned detector


def test_misspell_makes_keystroke_slips_in_long_words_only():
    import random

    text = "sudden crushing pressure in my chest"
    slipped = misspell(text, random.Random(3))
    assert slipped != text
    assert len(slipped.split()) == len(text.split())
    assert slipped.split()[3:5] == ["in", "my"]


def test_training_examples_label_dialogue_openers_and_intent_examples_as_none():
    positives = [
        {"turns": ["my back is bad", "and now i cant pee"], "category": "cauda_equina"},
    ]
    texts, labels = training_examples(positives, [{"text": "no fever"}], ["hi"], typo_copies=1)
    assert texts[0] == "my back is bad . and now i cant pee"
    assert labels == ["cauda_equina", "cauda_equina", "none", "none", "none"]
    assert texts[2:] == ["my back is bad", "no fever", "hi"]


def test_self_harm_is_suspected_below_the_main_threshold_from_its_own_lower_bar():
    scores = {"self_harm": 0.35, "cardiac": 0.1}
    assert choose(scores, 0.6, None) is None
    assert choose(scores, 0.6, 0.3) == ("self_harm", 0.35)
    assert choose(scores, 0.6, 0.4) is None


def test_a_category_over_the_main_threshold_wins_over_the_self_harm_bar():
    assert choose({"self_harm": 0.3, "cardiac": 0.65}, 0.6, 0.2) == ("cardiac", 0.65)
    assert choose({"self_harm": 0.1, "cardiac": 0.5}, 0.6, 0.2) is None


def test_the_case_files_read_both_shapes(tmp_path):
    path = tmp_path / "cases.yml"
    path.write_text(yaml.safe_dump(["plain string", {"text": "t", "kind": "negated"}]))
    assert read_cases(path) == [{"text": "plain string"}, {"text": "t", "kind": "negated"}]
    path.write_text(yaml.safe_dump([{"category": "x"}]))
    with pytest.raises(ValueError, match="needs text: or turns:"):
        read_cases(path)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> RedFlagClassifier:
    """The component trained by Rasa's own train/persist/load path, on the real cases."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("red_flag_classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**RedFlagClassifier.get_default_config(), "threshold": 0.5}
    trained = RedFlagClassifier.create(config, storage, resource, context)
    trained.train(
        TrainingData([Message(data={TEXT: "what are your opening hours", "intent": "x"})])
    )
    return RedFlagClassifier.load(config, storage, resource, context)


def suspicions(classifier: RedFlagClassifier, text: str, entities=()) -> List[str]:
    message = Message(data={TEXT: text, ENTITIES: list(entities)})
    (message,) = classifier.process([message])
    return [e["value"] for e in message.get(ENTITIES, []) if e["entity"] == "red_flag_suspected"]


def test_the_loaded_classifier_suspects_a_training_positive(classifier):
    case = read_cases(ROOT / "data" / "red_flags" / "seed_positives.yml")[0]
    assert suspicions(classifier, case["text"]) == [case["category"]]


def test_the_classifier_stays_quiet_on_an_ordinary_question(classifier):
    assert suspicions(classifier, "what are your opening hours") == []


def test_the_classifier_adds_nothing_when_the_rules_already_found_a_sign(classifier):
    case = read_cases(ROOT / "data" / "red_flags" / "seed_positives.yml")[0]
    rule = {"entity": "red_flag", "value": case["category"], "start": 0, "end": 1}
    assert suspicions(classifier, case["text"], [rule]) == []


def with_veto(
    classifier: RedFlagClassifier, veto: float | None, self_harm_veto: float | None = None
) -> RedFlagClassifier:
    config = {
        **classifier._config,
        "veto_threshold": veto,
        "self_harm_veto_threshold": self_harm_veto,
    }
    return RedFlagClassifier(config, classifier._storage, classifier._resource, classifier._model)


def after_rule_finding(
    classifier: RedFlagClassifier, text: str, category: str, entity: str = "red_flag"
) -> List[str]:
    """The values of ``entity`` once the classifier has processed ``text``, in which the
    rules found ``category``."""
    rule = {"entity": "red_flag", "value": category, "start": 0, "end": len(text)}
    message = Message(data={TEXT: text, ENTITIES: [rule]})
    (message,) = classifier.process([message])
    return [e["value"] for e in message.get(ENTITIES, []) if e["entity"] == entity]


def rule_flags(classifier: RedFlagClassifier, text: str, category: str) -> List[str]:
    return after_rule_finding(classifier, text, category)


RECOVERED = "broke my neck in a diving accident in my twenties, fully rehabbed, fine ever since"


def test_the_context_model_vetoes_a_rules_finding_in_a_recovered_past(classifier):
    assert rule_flags(with_veto(classifier, 0.8), RECOVERED, "trauma") == []


def test_without_a_veto_threshold_the_rules_finding_stands(classifier):
    assert rule_flags(with_veto(classifier, None), RECOVERED, "trauma") == ["trauma"]


SELF_HARM_PAST = "i used to self harm as a teen, havent in over 10 years, all good now"


def test_a_self_harm_finding_is_not_vetoed_at_the_other_categories_bar(classifier):
    assert rule_flags(with_veto(classifier, 0.0), SELF_HARM_PAST, "self_harm") == ["self_harm"]


def test_a_self_harm_finding_is_vetoed_only_from_its_own_bar(classifier):
    doubt = classifier._model.doubt([SELF_HARM_PAST])[0]
    above, below = with_veto(classifier, None, doubt), with_veto(classifier, None, doubt + 1e-6)
    assert rule_flags(above, SELF_HARM_PAST, "self_harm") == []
    assert rule_flags(below, SELF_HARM_PAST, "self_harm") == ["self_harm"]


def test_a_warning_sign_reported_now_keeps_the_rules_finding(classifier):
    case = read_cases(ROOT / "data" / "red_flags" / "seed_positives.yml")[0]
    assert rule_flags(with_veto(classifier, 0.8), case["text"], case["category"]) == [
        case["category"]
    ]


def suspected_beside(classifier: RedFlagClassifier, text: str, category: str) -> List[str]:
    return after_rule_finding(classifier, text, category, "red_flag_suspected")


def test_self_harm_is_suspected_beside_another_category_the_rules_found(classifier):
    case = next(
        c
        for c in read_cases(ROOT / "data" / "red_flags" / "seed_positives.yml")
        if c["category"] == "self_harm" and "text" in c
    )
    assert suspected_beside(classifier, case["text"], "trauma") == ["self_harm"]


def test_nothing_is_suspected_beside_a_rule_finding_of_an_ordinary_sign(classifier):
    text = "crushing chest pain spreading down my left arm"
    assert suspected_beside(classifier, text, "cardiac") == []


def test_the_context_model_doubts_a_question_more_than_a_report():
    positives = [{"text": "my chest is crushing and my arm is numb", "category": "cardiac"}] * 3
    near_misses = [{"text": "what does chest pain from the heart feel like?"}] * 3
    texts, labels = training_examples(positives, near_misses, ["what are your hours"] * 3)
    model = RedFlagModel().fit(texts, labels).fit_context(positives, near_misses)
    question, report = model.doubt(["what does chest pain feel like?", "my chest is crushing"])
    assert question > 0.5 > report


def test_a_changed_case_file_changes_the_fingerprint(tmp_path):
    cases = tmp_path / "positives.yml"
    cases.write_text("- {text: chest pain, category: cardiac}\n")
    config = {"positives": [str(cases)], "near_misses": []}
    before = RedFlagClassifier.fingerprint_addon(config)
    cases.write_text("- {text: crushing chest pain, category: cardiac}\n")
    assert RedFlagClassifier.fingerprint_addon(config) != before


# The rules travel inside the trained model


def test_the_trained_model_keeps_its_rules_when_the_file_beside_it_changes(tmp_path, nlp):
    rules = tmp_path / "red_flags.yml"
    shutil.copyfile(ROOT / "clinic" / "nlu" / "red_flags.yml", rules)
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("red_flag_extractor")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {"patterns": str(rules)}
    RedFlagExtractor.create(config, storage, resource, context).train(TrainingData())
    before = RedFlagExtractor.fingerprint_addon(config)
    rules.write_text("not: the rules\n")
    assert RedFlagExtractor.fingerprint_addon(config) != before
    loaded = RedFlagExtractor.load(config, storage, resource, context)
    assert flags(nlp, loaded, "crushing chest pain") == ["cardiac"]
