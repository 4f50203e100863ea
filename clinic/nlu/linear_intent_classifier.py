"""Intent classification by a sparse linear model: trains in seconds, no TensorFlow model.

A scikit-learn pipeline over the lower-cased message text: TF-IDF word n-grams plus TF-IDF
character n-grams inside word boundaries (they carry the typos visitors make, "neddling"),
then ``LogisticRegression`` one-vs-rest with liblinear (a few seconds to train where the
multinomial lbfgs fit of the same features took a minute). It needs no Rasa featurizer.

It sets ``intent`` and ``intent_ranking`` (top ``ranking_length``) like Rasa's own
classifiers; ``FallbackClassifier`` after it turns low confidence into ``nlu_fallback``.
With ``out_of_scope_threshold`` above 0, a message whose best intent is below it becomes
``out_of_scope`` first (confidence ``1 - best``), so an unknown topic gets the polite
"not something I can help with" reply rather than "please rephrase".

Hyper-parameters were chosen by 5-fold cross-validation on the training data
(``scripts/compare_nlu.py --cv``); the held-out figures are in that script's output.

Config (defaults shown)::

    - name: clinic.nlu.linear_intent_classifier.LinearIntentClassifier
      # inverse regularisation strength of the logistic regression
      C: 100
      # word n-gram range of the first TF-IDF vectorizer
      word_ngrams: [1, 2]
      # character n-gram range (inside word boundaries) of the second
      char_ngrams: [1, 4]
      # best intent below this -> out_of_scope (0 = leave it to FallbackClassifier)
      out_of_scope_threshold: 0.0
      out_of_scope_intent: out_of_scope
      # how many intents intent_ranking lists
      ranking_length: 10
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Sequence

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlu.linear_text_model import LinearTextModel, fit_one_vs_rest, predict_proba

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent_classifier.joblib"


def build_pipeline(
    c: float = 100.0,
    word_ngrams: Sequence[int] = (1, 2),
    char_ngrams: Sequence[int] = (1, 4),
    solver: str = "liblinear",
) -> Any:
    """The untrained scikit-learn pipeline: lower-cased texts in, intent probabilities out.

    Also used by ``scripts/compare_nlu.py``, so it measures exactly what Rasa trains."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=tuple(word_ngrams), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), sublinear_tf=True),
    )
    extra = {"max_iter": 1000} if solver != "liblinear" else {}
    classifier = LogisticRegression(
        C=c, class_weight="balanced", solver=solver, random_state=0, **extra
    )
    return make_pipeline(features, classifier)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intent and intent ranking from a TF-IDF + logistic regression pipeline."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "C": 100.0,
            "word_ngrams": [1, 2],
            "char_ngrams": [1, 4],
            "out_of_scope_threshold": 0.0,
            "out_of_scope_intent": "out_of_scope",
            "ranking_length": 10,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn", "joblib"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """This module's source: Rasa's fingerprint has only the class's own source, so a
        change to ``build_pipeline`` would otherwise restore the old model from its cache."""
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Any = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._pipeline = pipeline
        # The same probabilities as the pipeline's predict_proba, a tenth of the time.
        self._fast = LinearTextModel.wrap(pipeline) if pipeline is not None else None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        labels = {e.get(INTENT) for e in examples}
        if len(labels) < 2:
            logger.debug("LinearIntentClassifier needs two intents or more; not trained.")
            return self._resource
        pipeline = build_pipeline(
            c=float(self._config["C"]),
            word_ngrams=self._config["word_ngrams"],
            char_ngrams=self._config["char_ngrams"],
        )
        fit_one_vs_rest(
            pipeline, [e.get(TEXT).lower() for e in examples], [e.get(INTENT) for e in examples]
        )
        self._pipeline = pipeline
        self._fast = LinearTextModel.wrap(pipeline)
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(pipeline, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                pipeline = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            pipeline = None  # not trained (e.g. a core-only model or no intents)
        return cls(config, model_storage, resource, pipeline)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._pipeline is None:
            return messages
        texted = [m for m in messages if (m.get(TEXT) or "").strip()]
        for message in messages:
            if message not in texted:
                # No words: no intent, confidence 0, as Rasa's own classifiers leave it
                # (FallbackClassifier then answers with nlu_fallback).
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, True)
                message.set(INTENT_RANKING_KEY, [], True)
        if not texted:
            return messages
        probabilities = predict_proba(
            self._pipeline, self._fast, [m.get(TEXT).lower() for m in texted]
        )
        names = [str(name) for name in self._pipeline.classes_]
        for message, row in zip(texted, probabilities, strict=True):
            ranking = sorted(
                (
                    {INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: float(p)}
                    for n, p in zip(names, row, strict=True)
                ),
                key=lambda entry: -entry[PREDICTED_CONFIDENCE_KEY],
            )
            ranking = self._out_of_scope_if_unsure(ranking)
            message.set(INTENT, ranking[0], add_to_output=True)
            length = int(self._config["ranking_length"])
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, True)
        return messages

    def _out_of_scope_if_unsure(self, ranking: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Below ``out_of_scope_threshold`` the message is out_of_scope, ranked first."""
        best = ranking[0][PREDICTED_CONFIDENCE_KEY]
        name = self._config["out_of_scope_intent"]
        if (
            best >= float(self._config["out_of_scope_threshold"])
            or ranking[0][INTENT_NAME_KEY] == name
        ):
            return ranking
        others = [entry for entry in ranking if entry[INTENT_NAME_KEY] != name]
        return [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0 - best}, *others]
