"""The learned red-flag detector as an NLU component: weaker evidence of a warning sign.

Runs after ``RedFlagExtractor``. When the rules found no warning sign in a
message but ``RedFlagModel`` (``red_flag_model.py``) gives a category a
probability of at least ``threshold``, the message gets the entity
``red_flag_suspected`` with the category as value and the probability as
``confidence_entity`` (declared with ``influence_conversation: false``).
``RedFlagPolicy`` then asks that category's one screening question (self-harm
gets the crisis-line reply at once). It never changes the intent.

Before that it weighs the rules' finding: when the rules found a warning sign but
the context model (``RedFlagModel.doubt``) gives at least ``veto_threshold`` to "no
warning sign now" (a question about a sign, a recovered past, a pet, a first-aid
course), the ``red_flag`` entities are removed and the message is judged as if the rules had
found nothing, so the learned detector can still ask its screening question.
A finding that includes self-harm has its own, higher bar (``self_harm_veto_threshold``,
or never when it is null): the crisis line is offered unless the context model is all
but certain (a physio student's essay, a leaflet's side effects, a past long behind).

Trained by ``rasa train`` from the case files named in the config (paths relative
to the project root; their contents are part of the component's fingerprint, so a
changed case file retrains it) and from the NLU data's intent examples as "none".

Config (defaults shown)::

    - name: clinic.nlu.red_flag_classifier.RedFlagClassifier
      positives: [data/red_flags/seed_positives.yml, data/red_flags/dev_positives.yml]
      near_misses: [data/red_flags/seed_near_misses.yml, data/red_flags/dev_near_misses.yml]
      threshold: 0.6
      self_harm_threshold: 0.4   # self-harm suspected from this probability on
      veto_threshold: null       # doubt from which a rule's finding is dropped (null: never)
      self_harm_veto_threshold: null  # the same for a finding that includes self-harm
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Tuple

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlu import red_flag_model
from clinic.nlu.red_flag_model import SELF_HARM, RedFlagModel, read_cases, training_examples

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUSPECTED = "red_flag_suspected"
MODEL_FILE = "red_flag_model.joblib"
RULES_ENTITY = "red_flag"


def _paths(config: Dict[str, Any], key: str) -> List[Path]:
    paths = [Path(path) for path in config.get(key) or []]
    return [path if path.is_absolute() else PROJECT_ROOT / path for path in paths]


def _without_stop_words(model: RedFlagModel | None) -> RedFlagModel | None:
    """``model`` without its TF-IDF vectorizers' ``stop_words_`` (the n-grams ``min_df``
    dropped: 21,740 strings, 3 MB in the Rasa server). scikit-learn keeps them for
    introspection only and documents that they can be set to None before pickling."""
    if model is not None:
        for part in model.pipeline.get_params(deep=True).values():
            if hasattr(part, "stop_words_"):
                part.stop_words_ = None
    return model


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class RedFlagClassifier(GraphComponent, EntityExtractorMixin):
    """Marks messages the rules let through but the learned model suspects."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "positives": ["data/red_flags/seed_positives.yml", "data/red_flags/dev_positives.yml"],
            "near_misses": [
                "data/red_flags/seed_near_misses.yml",
                "data/red_flags/dev_near_misses.yml",
            ],
            "threshold": 0.6,
            "self_harm_threshold": 0.4,
            "veto_threshold": None,
            "self_harm_veto_threshold": None,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The case files' contents and ``red_flag_model.py``: a change to either means a
        retrained model. (Rasa's fingerprint has only this class's own source, so without
        the model module it would restore a model trained by the old code from its cache.)"""
        digest = hashlib.sha256(Path(red_flag_model.__file__).read_bytes())
        for path in _paths(config, "positives") + _paths(config, "near_misses"):
            digest.update(path.read_bytes() if path.exists() else b"missing")
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: RedFlagModel | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        positives = [
            case for path in _paths(self._config, "positives") for case in read_cases(path)
        ]
        near_misses = [
            case for path in _paths(self._config, "near_misses") for case in read_cases(path)
        ]
        others = [example.get(TEXT) for example in training_data.intent_examples]
        texts, labels = training_examples(positives, near_misses, others)
        model = RedFlagModel().fit(texts, labels).fit_context(positives, near_misses)
        self._model = _without_stop_words(model)
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RedFlagClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except ValueError:
            model = None  # not trained yet (e.g. a core-only model)
        return cls(config, model_storage, resource, _without_stop_words(model))

    def _vetoed(self, text: str, flags: List[Dict[str, Any]]) -> bool:
        """Whether the rules' findings in ``text`` are dropped as "no sign now"."""
        self_harm = any(flag.get(ENTITY_ATTRIBUTE_VALUE) == SELF_HARM for flag in flags)
        veto = self._config.get("self_harm_veto_threshold" if self_harm else "veto_threshold")
        if veto is None or self._model is None:
            return False
        return self._model.doubt([text])[0] >= float(veto)

    def _self_harm_beside(self, text: str, flags: List[Dict[str, Any]]) -> Tuple[str, float] | None:
        """Self-harm when the rules found only other signs but the model's self-harm
        probability reaches its bar ("my brother has back pain since a car crash and
        tonight he told me he's got a rope in his car"): the urgent reply then carries
        the crisis line too."""
        if any(flag.get(ENTITY_ATTRIBUTE_VALUE) == SELF_HARM for flag in flags):
            return None
        (scores,) = self._model.scores([text])  # type: ignore[union-attr]
        score = scores.get(SELF_HARM, 0.0)
        return (SELF_HARM, score) if score >= float(self._config["self_harm_threshold"]) else None

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        for message in messages:
            text: str | None = message.get(TEXT)
            if not text:
                continue
            entities = message.get(ENTITIES, [])
            flags = [e for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) == RULES_ENTITY]
            if flags and not self._vetoed(text, flags):
                suspected = self._self_harm_beside(text, flags)
            else:
                if flags:
                    kept = [e for e in entities if e not in flags]
                    message.set(ENTITIES, kept, add_to_output=True)
                suspected = self._model.suspect(
                    text,
                    float(self._config["threshold"]),
                    float(self._config["self_harm_threshold"]),
                )
            if suspected is None:
                continue
            category, confidence = suspected
            entity = {
                ENTITY_ATTRIBUTE_TYPE: SUSPECTED,
                ENTITY_ATTRIBUTE_VALUE: category,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
                "confidence_entity": round(confidence, 3),
            }
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name([entity]),
                add_to_output=True,
            )
        return messages
