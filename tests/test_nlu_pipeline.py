"""The project's spaCy pipeline and the entity extractor built on it."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic.nlu.ruler_entity_extractor import RulerEntityExtractor
from clinic.nlu.spacy_pipeline import build_pipeline, read_lemma_overrides, read_patterns


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(read_patterns())


def entity_values(nlp, text: str) -> set[tuple[str, str]]:
    return {(ent.label_, ent.ent_id_) for ent in nlp(text.lower()).ents}


def test_the_pipeline_is_blank_english_with_lemmas_and_the_entity_ruler(nlp):
    assert nlp.lang == "en"
    assert nlp.pipe_names == ["lemmatizer", "entity_ruler"]


def test_every_pattern_has_a_label_and_a_canonical_id():
    patterns = read_patterns()
    assert len(patterns) > 50
    labels = {"body_part", "clinic_topic", "duration", "pain_quality"}
    assert all(p["label"] in labels and p.get("id") for p in patterns)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My lower back has hurt for weeks", {("body_part", "back")}),
        ("my neck is stiff and i get headaches", {("body_part", "neck"), ("body_part", "head")}),
        ("pain behind the eyes", {("body_part", "head")}),
        ("How much does a session cost?", {("clinic_topic", "prices")}),
        ("are you open on Saturdays", {("clinic_topic", "hours")}),
        (
            "is there parking and does insurance cover it",
            {("clinic_topic", "parking"), ("clinic_topic", "insurance")},
        ),
        ("what's your phone number", {("clinic_topic", "phone")}),
        ("where are you located", {("clinic_topic", "address")}),
    ],
)
def test_the_entity_ruler_finds_canonical_values(nlp, text, expected):
    assert entity_values(nlp, text) >= expected


@pytest.mark.parametrize("text", ["call me back please", "is dry needling safe?", "hello"])
def test_the_entity_ruler_stays_quiet_without_a_clinic_term(nlp, text):
    assert entity_values(nlp, text) == set()


def test_lemma_overrides_fix_the_lookup_table(nlp):
    assert read_lemma_overrides()["does"] == "do"
    assert [t.lemma_ for t in nlp("how does dry needling work")] == [
        "how",
        "do",
        "dry",
        "needle",
        "work",
    ]


def message_with_doc(nlp, text: str) -> Message:
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text.lower()))
    return message


def test_the_extractor_reports_ruler_spans_as_rasa_entities(nlp):
    text = "My lower back hurts, how much is a visit?"
    (message,) = RulerEntityExtractor({"labels": None}).process([message_with_doc(nlp, text)])
    entities = message.get(ENTITIES)
    assert [(e["entity"], e["value"]) for e in entities] == [
        ("body_part", "back"),
        ("clinic_topic", "prices"),
    ]
    first = entities[0]
    assert text[first["start"] : first["end"]] == "lower back"
    assert first["extractor"] == "RulerEntityExtractor"


def test_the_extractor_reports_only_the_configured_labels(nlp):
    extractor = RulerEntityExtractor({"labels": ["clinic_topic"]})
    (message,) = extractor.process([message_with_doc(nlp, "my neck, and your hours?")])
    assert [e["entity"] for e in message.get(ENTITIES)] == ["clinic_topic"]


def test_the_extractor_leaves_messages_without_a_doc_alone():
    message = Message(data={TEXT: "hello"})
    RulerEntityExtractor({"labels": None}).process([message])
    assert message.get(ENTITIES) is None
