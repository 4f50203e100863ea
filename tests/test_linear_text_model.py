"""LinearTextModel gives the very probabilities scikit-learn's predict_proba gives, to the
last bit, and leaves pipelines of any other shape to scikit-learn."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import List

import numpy as np
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from clinic.nlu import linear_text_model
from clinic.nlu.linear_intent_classifier import build_pipeline
from clinic.nlu.linear_text_model import LinearTextModel, fit_one_vs_rest, predict_proba
from clinic.nlu.red_flag_model import RedFlagModel, read_cases, training_examples

ROOT = Path(__file__).resolve().parents[1]
ODD_TEXTS = [
    "",
    " ",
    "qwxz zzzzzz",
    "pain pain pain pain pain",
    "naïve café résumé",
    "tab\tand\nnew line  and\u00a0no-break space",
    "can't won't i'm",
    "😀 ??? !!! ...",
    "a",
    "chest",
]


def intent_texts() -> List[str]:
    examples = load_data(str(ROOT / "data" / "nlu")).intent_examples
    return [e.get("text").lower() for e in examples]


def red_flag_texts() -> List[str]:
    texts = []
    for name in ("seed_positives.yml", "seed_near_misses.yml"):
        for case in read_cases(ROOT / "data" / "red_flags" / name):
            texts.extend(turn.lower() for turn in case.get("turns") or [case["text"]])
    return texts


@pytest.fixture(scope="module")
def intent_pipeline():
    examples = load_data(str(ROOT / "data" / "nlu")).intent_examples
    pipeline = build_pipeline()
    # As the component fits it.
    fit_one_vs_rest(
        pipeline, [e.get("text").lower() for e in examples], [e.get("intent") for e in examples]
    )
    return pipeline


def test_one_vs_rest_in_threads_predicts_as_the_sequential_fit(intent_pipeline):
    examples = load_data(str(ROOT / "data" / "nlu")).intent_examples
    texts = [e.get("text").lower() for e in examples]
    sequential = build_pipeline().fit(texts, [e.get("intent") for e in examples])
    ours, theirs = intent_pipeline.predict_proba(texts), sequential.predict_proba(texts)
    assert list(intent_pipeline.classes_) == list(sequential.classes_)
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).mean() > 0.999
    assert np.abs(ours - theirs).max() < 0.02


def test_one_vs_rest_in_threads_fits_two_classes_as_one_binary_model():
    pipeline = build_pipeline()
    fit_one_vs_rest(
        pipeline, ["back pain", "opening hours", "neck pain", "when open"], list("abab")
    )
    assert pipeline.steps[-1][1].coef_.shape[0] == 1
    assert list(pipeline.predict(["back pain"])) == ["a"]


@pytest.fixture(scope="module")
def red_flag_model() -> RedFlagModel:
    data = ROOT / "data" / "red_flags"
    texts, labels = training_examples(
        read_cases(data / "seed_positives.yml"),
        read_cases(data / "seed_near_misses.yml"),
        intent_texts()[::10],
    )
    return RedFlagModel().fit(texts, labels)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_intent_probabilities_are_bit_for_bit_scikit_learns(intent_pipeline):
    fast = LinearTextModel.wrap(intent_pipeline)
    assert fast is not None
    texts = intent_texts()[::6] + red_flag_texts()[::5] + ODD_TEXTS
    for text in texts:
        assert same_bits(fast.predict_proba([text]), intent_pipeline.predict_proba([text])), text


def test_red_flag_probabilities_are_bit_for_bit_scikit_learns(red_flag_model):
    pipeline = red_flag_model.pipeline
    fast = LinearTextModel.wrap(pipeline)
    assert fast is not None
    texts = red_flag_texts() + intent_texts()[::20] + ODD_TEXTS
    for text in texts:
        assert same_bits(fast.predict_proba([text]), pipeline.predict_proba([text])), text


def test_a_batch_gives_the_same_rows_as_scikit_learn(intent_pipeline):
    texts = intent_texts()[:200] + ODD_TEXTS
    fast = LinearTextModel.wrap(intent_pipeline)
    assert same_bits(fast.predict_proba(texts), intent_pipeline.predict_proba(texts))


@pytest.mark.parametrize("texts", ["hello", []], ids=["one string", "no text"])
def test_what_scikit_learn_refuses_is_refused(intent_pipeline, texts):
    with pytest.raises(ValueError):
        intent_pipeline.predict_proba(texts)
    with pytest.raises(ValueError):
        LinearTextModel.wrap(intent_pipeline).predict_proba(texts)


@pytest.mark.parametrize(
    "change",
    [
        {"solver": "lbfgs"},  # multinomial softmax, not one-vs-rest
        {"binary_labels": True},  # two classes: one coefficient row
        {"norm": "l1"},
        {"use_idf": False},
        {"binary": True},
    ],
)
def test_a_pipeline_of_another_shape_is_left_to_scikit_learn(change):
    pipeline = build_pipeline(solver=change.get("solver", "liblinear"))
    for _, vectorizer in pipeline.steps[0][1].transformer_list:
        for key in ("norm", "use_idf", "binary"):
            if key in change:
                vectorizer.set_params(**{key: change[key]})
    texts = ["hello there", "hi", "is it safe", "any risks", "bye now", "see you"]
    labels = ["greet", "greet", "safety", "safety", "bye", "bye"]
    if change.get("binary_labels"):
        labels = ["greet", "greet", "other", "other", "other", "other"]
    pipeline.fit(texts, labels)
    assert LinearTextModel.wrap(pipeline) is None
    expected = pipeline.predict_proba(["hello"])
    assert same_bits(predict_proba(pipeline, None, ["hello"]), expected)


def test_an_unfitted_pipeline_is_not_wrapped():
    assert LinearTextModel.wrap(build_pipeline()) is None
    assert LinearTextModel.wrap(None) is None


def test_the_red_flag_model_pickles_without_its_fast_copy_and_scores_the_same(red_flag_model):
    text = "sudden weakness in my left arm"
    before = red_flag_model.scores([text])
    assert "_fast" in red_flag_model.__dict__
    loaded = pickle.loads(pickle.dumps(red_flag_model))
    assert "_fast" not in loaded.__dict__
    assert loaded.scores([text]) == before


def test_char_ngram_columns_are_counted_per_word_as_the_analyzer_makes_them(
    intent_pipeline, monkeypatch
):
    monkeypatch.setattr(linear_text_model, "WORD_CACHE_SIZE", 3)
    for _, vectorizer in intent_pipeline.steps[0][1].transformer_list:
        columns = linear_text_model._columns_of(vectorizer)
        vocabulary, analyze = vectorizer.vocabulary_, vectorizer.build_analyzer()
        for text in ODD_TEXTS + ["pain pain in my neck pain", "Neck  PAIN\tagain"]:
            expected = sorted(vocabulary[f] for f in analyze(text) if f in vocabulary)
            assert sorted(columns(text)) == expected, text


def test_the_wrapped_estimator_keeps_its_coefficients_once_and_unchanged():
    pipeline = build_pipeline()
    fit_one_vs_rest(pipeline, ["back pain", "opening hours", "neck pain", "parking"], list("abcd"))
    before = pipeline.steps[-1][1].coef_.copy()
    fast = LinearTextModel.wrap(pipeline)
    after = pipeline.steps[-1][1].coef_
    assert np.shares_memory(after, fast._coef_t)
    assert same_bits(np.ascontiguousarray(after), before)


def test_red_flag_context_doubts_are_bit_for_bit_scikit_learns(red_flag_model):
    positives = read_cases(ROOT / "data" / "red_flags" / "seed_positives.yml")
    near_misses = read_cases(ROOT / "data" / "red_flags" / "seed_near_misses.yml")
    red_flag_model.fit_context(positives, near_misses)
    context, features = red_flag_model.context, red_flag_model.pipeline[0]
    column = list(context.classes_).index(0)
    texts = red_flag_texts() + intent_texts()[::20] + ODD_TEXTS
    fast = red_flag_model.doubt(texts)
    assert "_fast_context" in red_flag_model.__dict__
    for text, doubt in zip(texts, fast, strict=True):
        expected = context.predict_proba(features.transform([text.lower()]))[0, column]
        assert np.float64(doubt).tobytes() == np.float64(expected).tobytes(), text
    loaded = pickle.loads(pickle.dumps(red_flag_model))
    assert "_fast_context" not in loaded.__dict__
    assert loaded.doubt(texts[:20]) == fast[:20]


def test_a_binary_head_of_another_width_is_refused(intent_pipeline, red_flag_model):
    fast = LinearTextModel.wrap(intent_pipeline)
    head = linear_text_model.BinaryHead(np.zeros((3, 1)), np.zeros(1))
    with pytest.raises(ValueError, match="3 features"):
        fast.binary_proba(["my back hurts"], head)
