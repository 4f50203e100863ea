"""LinearIntentClassifier through Rasa's create/train/load path, and the CLINC150 data file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlu.linear_intent_classifier import LinearIntentClassifier

ROOT = Path(__file__).resolve().parents[1]
CLINC_FILE = ROOT / "data/nlu/out_of_scope_clinc150.yml"
CLINC_DIR = Path("/work/shared/data/clinc150")

TRAINING = {
    "greet": ["hello", "hi there", "good morning", "hey", "hiya"],
    "goodbye": ["bye", "see you later", "goodbye then", "cheerio", "talk soon"],
    "ask_safety": ["is dry needling safe", "any risks", "side effects?", "is it dangerous"],
    "out_of_scope": ["book a flight", "what's the weather", "play some music", "pay my taxes"],
}
TEXTS = ["hello friend", "is needling risky", "bye for now", "weather in paris", "qwxz"]


def training_data() -> TrainingData:
    return TrainingData(
        [
            Message(data={TEXT: text, INTENT: intent})
            for intent, texts in TRAINING.items()
            for text in texts
        ]
    )


def predictions(component: LinearIntentClassifier) -> List[Dict[str, Any]]:
    messages = [Message(data={TEXT: text}) for text in TEXTS]
    component.process(messages)
    return [{"intent": m.get(INTENT), "ranking": m.get(INTENT_RANKING_KEY)} for m in messages]


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def trained(storage: LocalModelStorage, config: Dict[str, Any]) -> LinearIntentClassifier:
    context = ExecutionContext(node_name="intent", graph_schema=None)  # type: ignore[arg-type]
    component = LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), **config},
        storage,
        Resource("intent"),
        context,
    )
    component.train(training_data())
    return component


def load(storage: LocalModelStorage, config: Dict[str, Any]) -> LinearIntentClassifier:
    context = ExecutionContext(node_name="intent", graph_schema=None)  # type: ignore[arg-type]
    return LinearIntentClassifier.load(
        {**LinearIntentClassifier.get_default_config(), **config},
        storage,
        Resource("intent"),
        context,
    )


def test_sets_intent_and_ranking_sorted_and_cut_to_ranking_length(storage):
    for prediction in predictions(trained(storage, {"ranking_length": 3})):
        ranking = prediction["ranking"]
        assert len(ranking) == 3
        confidences = [entry["confidence"] for entry in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert prediction["intent"] == ranking[0]
        assert {entry["name"] for entry in ranking} <= set(TRAINING)
        assert 0.0 <= ranking[0]["confidence"] <= 1.0


def test_learns_the_training_examples(storage):
    component = trained(storage, {})
    messages = [Message(data={TEXT: "HELLO"}), Message(data={TEXT: "is dry needling safe"})]
    component.process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == ["greet", "ask_safety"]


def test_loaded_model_predicts_exactly_what_the_trained_one_did(storage):
    before = predictions(trained(storage, {}))
    after = predictions(load(storage, {}))
    assert after == before


def test_untrained_model_leaves_messages_without_intent(storage):
    messages = [Message(data={TEXT: "hello"})]
    load(storage, {}).process(messages)
    assert messages[0].get(INTENT) is None


def test_below_out_of_scope_threshold_the_intent_becomes_out_of_scope(storage):
    component = trained(storage, {"out_of_scope_threshold": 0.99})
    message = Message(data={TEXT: "hello friend"})
    component.process([message])
    intent = message.get(INTENT)
    ranking = message.get(INTENT_RANKING_KEY)
    assert intent["name"] == "out_of_scope"
    assert ranking[0] == intent
    assert [entry["name"] for entry in ranking].count("out_of_scope") == 1


def clinc_examples() -> List[str]:
    data = yaml.safe_load(CLINC_FILE.read_text(encoding="utf-8"))
    (block,) = data["nlu"]
    assert block["intent"] == "out_of_scope"
    return [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]


def test_clinc_file_carries_the_cc_by_attribution_and_citation():
    header = CLINC_FILE.read_text(encoding="utf-8").split("version:")[0]
    assert "Creative Commons Attribution 3.0 (CC BY 3.0)" in header
    assert "Larson, Mahendran, Peper, Clarke, Lee, Hill, Kummerfeld, Leach, Laurenzano" in header
    assert "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction" in header
    assert "EMNLP-IJCNLP 2019" in header


def norm(text: str) -> str:
    """Lower case, single spaces: the file collapses CLINC's double spaces."""
    return " ".join(text.lower().split())


@pytest.mark.skipif(not CLINC_DIR.exists(), reason="CLINC150 copy not available")
def test_clinc_file_has_no_small_talk_meta_or_validation_queries():
    splits = json.loads((CLINC_DIR / "train_val.json").read_text(encoding="utf-8"))
    domains = json.loads((CLINC_DIR / "domains.json").read_text(encoding="utf-8"))
    left_out = set(domains["small_talk"]) | set(domains["meta"])
    chit_chat = {norm(t) for t, i in splits["train"] if i in left_out}
    held_out = {norm(t) for t, _ in splits["val"] + splits["oos_val"]}
    allowed = {norm(t) for t, i in splits["train"] if i not in left_out}
    allowed |= {norm(t) for t, _ in splits["oos_train"]}
    texts = [norm(t) for t in clinc_examples()]
    assert len(texts) > 1000
    assert not set(texts) & chit_chat
    assert not set(texts) & held_out
    assert set(texts) <= allowed


@pytest.mark.parametrize("text", ["", " ", "\n\t"])
def test_a_message_without_words_gets_no_intent_with_confidence_zero(text, storage):
    (message,) = trained(storage, {}).process([Message(data={TEXT: text})])
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}
    assert message.get(INTENT_RANKING_KEY) == []
