"""Rasa's training cache retrains a component only when its fingerprint changes, and
that fingerprint holds the component class's own source, not the module code it calls:
the project's classifiers add their modules, so changed model code means a new model."""

from __future__ import annotations

import shutil
from pathlib import Path

from clinic.nlu import linear_intent_classifier, red_flag_model
from clinic.nlu.linear_intent_classifier import LinearIntentClassifier
from clinic.nlu.red_flag_classifier import RedFlagClassifier


def edited_copy(module, tmp_path: Path) -> Path:
    copy = tmp_path / Path(module.__file__).name
    shutil.copyfile(module.__file__, copy)
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    return copy


def test_changed_red_flag_model_code_changes_the_classifier_fingerprint(tmp_path, monkeypatch):
    config = RedFlagClassifier.get_default_config()
    before = RedFlagClassifier.fingerprint_addon(config)
    assert RedFlagClassifier.fingerprint_addon(config) == before
    monkeypatch.setattr(red_flag_model, "__file__", str(edited_copy(red_flag_model, tmp_path)))
    assert RedFlagClassifier.fingerprint_addon(config) != before


def test_changed_intent_pipeline_code_changes_the_classifier_fingerprint(tmp_path, monkeypatch):
    config = LinearIntentClassifier.get_default_config()
    before = LinearIntentClassifier.fingerprint_addon(config)
    assert before is not None
    assert LinearIntentClassifier.fingerprint_addon(config) == before
    copy = edited_copy(linear_intent_classifier, tmp_path)
    monkeypatch.setattr(linear_intent_classifier, "__file__", str(copy))
    assert LinearIntentClassifier.fingerprint_addon(config) != before


def test_changed_fact_base_or_pipeline_code_changes_the_fact_retriever_fingerprint(
    tmp_path, monkeypatch
):
    from clinic.nlu.fact_retriever import FactRetriever

    config = FactRetriever.get_default_config()
    before = FactRetriever.fingerprint_addon(config)
    assert FactRetriever.fingerprint_addon(config) == before
    facts = tmp_path / "facts.yml"
    facts.write_text("- id: x\n", encoding="utf-8")
    assert FactRetriever.fingerprint_addon({**config, "facts": str(facts)}) != before
    copy = edited_copy(linear_intent_classifier, tmp_path)  # build_pipeline lives there
    monkeypatch.setattr(linear_intent_classifier, "__file__", str(copy))
    assert FactRetriever.fingerprint_addon(config) != before
