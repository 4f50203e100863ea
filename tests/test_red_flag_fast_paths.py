"""The red-flag rules' fast paths find exactly what the plain ones find: the indexed
matcher against one spaCy Matcher holding every pattern, find's early stop, and the
cache of the previous message's analysis."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from spacy.matcher import Matcher

from clinic.nlu import red_flag_extractor
from clinic.nlu.red_flag_extractor import RedFlagExtractor
from clinic.nlu.red_flag_model import read_cases
from clinic.nlu.red_flag_rules import IndexedMatcher, RedFlagDetector, load_rules
from clinic.nlu.spacy_pipeline import build_pipeline, read_patterns

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "clinic" / "nlu" / "red_flags.yml"
ODD_TEXTS = [" ", "...", "😀", "no no no not never", "2015", "i cant i cant i cant"]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(read_patterns())


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    return RedFlagDetector(load_rules(RULES))


def texts() -> List[str]:
    found = []
    for name in ("seed_positives.yml", "seed_near_misses.yml"):
        for case in read_cases(ROOT / "data" / "red_flags" / name):
            found.extend(case.get("turns") or [case["text"]])
    return found + ODD_TEXTS


def one_matcher(nlp, patterns) -> Matcher:
    matcher = Matcher(nlp.vocab)
    for key, key_patterns in patterns.items():
        if key_patterns:
            matcher.add(key, key_patterns)
    return matcher


def every_match(nlp, matcher: Matcher, doc):
    return sorted({(nlp.vocab.strings[key], start, end) for key, start, end in matcher(doc)})


# The indexed matcher


@pytest.fixture(scope="module")
def full(nlp, detector) -> Matcher:
    return one_matcher(nlp, detector._patterns)


@pytest.fixture(scope="module")
def indexed(nlp, detector) -> IndexedMatcher:
    return IndexedMatcher(nlp.vocab, detector._patterns)


def test_the_indexed_matcher_finds_what_one_matcher_with_every_rule_pattern_finds(
    nlp, full, indexed
):
    for text in texts():
        doc = nlp(text.lower())
        assert indexed(doc) == every_match(nlp, full, doc), text


def test_patterns_of_any_first_and_last_token_are_found_as_one_matcher_finds_them(nlp):
    patterns = {
        "shape_first": [[{"SHAPE": "dddd"}, {"LOWER": "accident"}]],
        "lemma_and_set": [
            [{"LEMMA": "leg"}, {"LOWER": "go", "OP": "?"}, {"LOWER": {"IN": ["numb", "dead"]}}]
        ],
        "flag_last": [[{"LOWER": "since"}, {"IS_DIGIT": True}]],
        "anything": [[{"IS_ALPHA": True}]],
        "one_word": [[{"LOWER": "stroke"}], [{"LOWER": {"IN": ["fit", "seizure"]}}]],
    }
    full = one_matcher(nlp, patterns)
    indexed = IndexedMatcher(nlp.vocab, patterns)
    for text in [
        "a 2015 accident",
        "my legs numb",
        "both legs go dead",
        "since 2019",
        "a stroke or a fit",
        "nothing here",
        "?",
    ]:
        doc = nlp(text)
        assert indexed(doc) == every_match(nlp, full, doc), text


def test_a_doc_without_lemmas_is_refused_as_spacys_matcher_refuses_it(nlp, full, indexed):
    doc = nlp.make_doc("chest pain")  # no lemmatizer has run
    with pytest.raises(ValueError, match="E155"):
        full(doc)
    with pytest.raises(ValueError, match="E155"):
        indexed(doc)
    empty = nlp.make_doc("")
    assert indexed(empty) == every_match(nlp, full, empty) == []


def test_a_doc_runs_only_the_matchers_its_words_can_match(nlp, indexed):
    assert indexed.matchers(nlp("hello")) == []
    assert len(indexed.matchers(nlp("sudden chest pain"))) > 0


# find's early stop


def test_a_message_of_cue_words_only_shows_no_category(nlp, detector):
    assert detector.find(nlp("no , not yet , i ca n't say")) == []


def test_a_combination_without_concepts_turns_the_early_stop_off():
    rules = load_rules(RULES)
    assert RedFlagDetector(rules)._early_exit
    category = next(iter(rules["categories"].values()))
    category["combinations"] = [{"all": []}]
    assert not RedFlagDetector(rules)._early_exit


# The previous message's cache


class CountingNLP:
    """The pipeline, with every text it is asked to parse written down."""

    def __init__(self, nlp) -> None:
        self.nlp = nlp
        self.vocab = nlp.vocab
        self.texts: List[str] = []

    def __call__(self, text: str):
        self.texts.append(text)
        return self.nlp(text)


def values(found) -> List[str]:
    return [entity["value"] for entity in found]


def test_the_message_before_is_not_parsed_again_and_gives_what_a_fresh_parse_gives(nlp):
    first, second = "My back is really BAD", "and i've had a fever since last night"
    counting = CountingNLP(nlp)
    extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
    extractor.entities(counting(first.lower()), counting)
    counting.texts.clear()
    found = extractor.entities(counting(second), counting, previous=first)
    assert first.lower() not in counting.texts  # taken from the cache
    assert values(found) == ["infection"]
    fresh = RedFlagExtractor(RedFlagExtractor.get_default_config())
    assert found == fresh.entities(nlp(second), nlp, previous=first)


def test_a_previous_message_not_seen_before_is_parsed_and_remembered(nlp):
    counting = CountingNLP(nlp)
    extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
    found = extractor.entities(nlp("and a fever since last night"), counting, "my back is bad")
    assert counting.texts[0] == "my back is bad"
    assert values(found) == ["infection"]
    counting.texts.clear()
    extractor.entities(nlp("and a fever since last night"), counting, "my back is bad")
    assert "my back is bad" not in counting.texts


def test_the_cache_keeps_the_newest_messages_only(nlp, monkeypatch):
    monkeypatch.setattr(red_flag_extractor, "PREVIOUS_CACHE_SIZE", 2)
    extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
    for text in ["one", "two", "three", "two"]:
        extractor.entities(nlp(text), nlp)
    assert list(extractor._previous_cache) == ["three", "two"]


def test_another_pipeline_empties_the_cache(nlp):
    extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
    extractor.entities(nlp("one"), nlp)
    other = build_pipeline(read_patterns())
    extractor.entities(other("two"), other)
    assert list(extractor._previous_cache) == ["two"]


def test_a_message_not_lower_cased_or_from_another_vocab_is_not_remembered(nlp):
    extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
    extractor.entities(nlp("Chest Pain"), nlp)
    extractor.entities(build_pipeline(read_patterns())("chest pain"), nlp)
    assert extractor._previous_cache == {}
