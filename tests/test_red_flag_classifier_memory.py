"""The learned red-flag model is kept without its vectorizers' ``stop_words_``: same
scores, less memory in the Rasa server."""

from __future__ import annotations

from clinic.nlu.red_flag_classifier import _without_stop_words
from clinic.nlu.red_flag_model import RedFlagModel

TEXTS = [
    "crushing chest pain",
    "chest pain spreading to my arm",
    "sudden crushing pain in the chest",
    "what are your opening hours",
    "how much is a session",
    "do you take insurance",
]
LABELS = ["cardiac", "cardiac", "cardiac", "none", "none", "none"]


def test_dropping_stop_words_keeps_the_scores():
    model = RedFlagModel().fit(TEXTS, LABELS)
    vectorizers = [
        part
        for part in model.pipeline.get_params(deep=True).values()
        if hasattr(part, "stop_words_")
    ]
    assert vectorizers and any(v.stop_words_ for v in vectorizers)
    queries = ["chest pain", "opening hours", "crushing pain"]
    before = model.scores(queries)
    assert _without_stop_words(model) is model
    assert all(v.stop_words_ is None for v in vectorizers)
    assert model.scores(queries) == before


def test_no_model_stays_no_model():
    assert _without_stop_words(None) is None
