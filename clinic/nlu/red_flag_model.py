"""The learned red-flag detector: a safety net under the rules of ``red_flags.yml``.

A linear model (scikit-learn ``LogisticRegression``, one-vs-rest with liblinear:
4 s to train on 2 cores where the multinomial lbfgs fit took 18 s) over TF-IDF character
2-5-grams inside word boundaries and word 1-2-grams of the lower-cased text. It
learns the categories from the case files in ``data/red_flags/`` (positives and
near-misses), from every intent example of the NLU data as "none", and from
misspelt copies of the positives, so it knows wording that no rule names.

Its second part, the context model (``fit_context``, ``doubt``), answers another
question: given a message in which the rules found a warning sign, how likely is it
that the person does *not* report one now (a question about a sign, a recovered past,
someone's pet, a film, a first-aid course)? It is a binary logistic regression over
the same features, trained on the positives against the near-misses, which are
exactly such contexts; sharing the features keeps it at one coefficient per n-gram
(a model of its own with its own vocabulary held 23 MB more in the Rasa server).

Pure scikit-learn, no Rasa: ``RedFlagClassifier`` wraps both as an NLU component
and ``scripts/red_flag_report.py`` measures them.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple, TypedDict

import yaml

from clinic.nlu.linear_text_model import (
    BinaryHead,
    LinearTextModel,
    fit_one_vs_rest,
    predict_proba,
)

NONE = "none"
SELF_HARM = "self_harm"


class Case(TypedDict, total=False):
    text: str  # one message
    turns: List[str]  # or a short dialogue whose last message makes it a warning sign
    category: str
    styles: List[str]
    kind: str


def read_cases(path: Path) -> List[Case]:
    """A case file: positives (``text`` or ``turns`` with ``category``) or near-misses
    (plain strings or ``text`` with ``kind``), normalised to ``Case`` dicts."""
    cases: List[Case] = []
    # PyYAML's C build of its safe loader (libyaml, in PyYAML's wheels): same documents,
    # a tenth of the time on these 1 MB of cases.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for entry in yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or []:
        if isinstance(entry, str):
            cases.append({"text": entry})
        elif isinstance(entry, dict) and ("text" in entry or "turns" in entry):
            cases.append(entry)  # type: ignore[arg-type]
        else:
            raise ValueError(f"{path}: a case needs text: or turns:, got {entry!r}")
    return cases


def joined(case: Case) -> str:
    """The whole text of a case (the turns of a dialogue joined)."""
    return case["text"] if "text" in case else " . ".join(case["turns"])


def misspell(text: str, rng: random.Random, edits: int = 2) -> str:
    """``text`` with ``edits`` random keystroke slips in its longer words."""
    words = text.split(" ")
    long_words = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    for index in rng.sample(long_words, min(edits, len(long_words))):
        word = words[index]
        at = rng.randrange(1, len(word) - 1)
        slip = rng.choice(("drop", "double", "swap"))
        if slip == "drop":
            word = word[:at] + word[at + 1 :]
        elif slip == "double":
            word = word[:at] + word[at] + word[at:]
        else:
            word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
        words[index] = word
    return " ".join(words)


def training_examples(
    positives: Iterable[Case],
    near_misses: Iterable[Case],
    other_texts: Iterable[str],
    typo_copies: int = 4,
    seed: int = 7,
) -> Tuple[List[str], List[str]]:
    """Texts and labels: positives (each with misspelt copies), near-misses and the
    first message of each dialogue as "none", other texts (intent examples) as "none"."""
    rng = random.Random(seed)
    texts: List[str] = []
    labels: List[str] = []
    for case in positives:
        text = joined(case).lower()
        texts.append(text)
        labels.append(case["category"])
        for _ in range(typo_copies):
            texts.append(misspell(text, rng))
            labels.append(case["category"])
        if "turns" in case:
            texts.extend(turn.lower() for turn in case["turns"][:-1])
            labels.extend(NONE for _ in case["turns"][:-1])
    for case in near_misses:
        texts.append(joined(case).lower())
        labels.append(NONE)
    for text in other_texts:
        texts.append(text.lower())
        labels.append(NONE)
    return texts, labels


def ngram_pipeline(longest_word_ngram: int, c: float) -> Any:
    """TF-IDF character 2-5-grams inside word boundaries and word n-grams, then logistic
    regression (liblinear, one-vs-rest). No class weighting: "balanced" raised recall a
    little and false alarms much more (5-fold on the development cases: 0.79 / 4.2%
    against 0.75 / 1.6% at 0.6)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, longest_word_ngram), sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=c, solver="liblinear", random_state=0))


class RedFlagModel:
    """Category probabilities for a message; ``suspect`` applies the threshold;
    ``doubt`` is the context model's probability of "no warning sign now"."""

    def __init__(self, c: float = 30.0) -> None:
        self.pipeline = ngram_pipeline(2, c)
        self.context: Any = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> RedFlagModel:
        fit_one_vs_rest(self.pipeline, list(texts), list(labels))
        self.__dict__.pop("_fast", None)
        self.__dict__.pop("_fast_context", None)
        return self

    def fit_context(
        self, positives: Iterable[Case], near_misses: Iterable[Case], c: float = 10.0
    ) -> RedFlagModel:
        """The context model, on the fitted features: positives (whole text) as 1,
        near-misses as 0; no typo copies, no intent examples, as it only ever sees
        messages in which a rule found a sign."""
        from sklearn.linear_model import LogisticRegression

        texts: List[str] = []
        labels: List[int] = []
        for label, cases in ((1, positives), (0, near_misses)):
            for case in cases:
                texts.append(joined(case).lower())
                labels.append(label)
        classifier = LogisticRegression(C=c, solver="liblinear", random_state=0)
        self.context = classifier.fit(self.pipeline[0].transform(texts), labels)
        self.__dict__.pop("_fast_context", None)
        return self

    def doubt(self, texts: Sequence[str]) -> List[float]:
        """Per text, the probability that it reports no warning sign now: by
        ``LinearTextModel`` on the detector's own features (the same numbers as
        scikit-learn's, without its transform's overhead) when the pipeline is of its shape."""
        lowered = [text.lower() for text in texts]
        column = list(self.context.classes_).index(0)
        if "_fast_context" not in self.__dict__:
            self._fast_context = BinaryHead.of(self.context)
        fast = self._fast_model()
        if fast is not None:
            probabilities = fast.binary_proba(lowered, self._fast_context)
        else:
            probabilities = self.context.predict_proba(self.pipeline[0].transform(lowered))
        return [float(p) for p in probabilities[:, column]]

    def __getstate__(self) -> Dict[str, object]:
        # The fast copies of the fitted models are made again after loading.
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("_fast", "_fast_context")
        }

    def _fast_model(self) -> LinearTextModel | None:
        if "_fast" not in self.__dict__:
            self._fast = LinearTextModel.wrap(self.pipeline)
        return self._fast

    def _predict_proba(self, texts: List[str]) -> Any:
        """``pipeline.predict_proba``, by ``LinearTextModel`` (same numbers, a tenth of
        the time on one message) when the pipeline is of its shape."""
        return predict_proba(self.pipeline, self._fast_model(), texts)

    def scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """Per text, the probability of each warning-sign category (not "none")."""
        classes = list(self.pipeline.classes_)
        rows = self._predict_proba([text.lower() for text in texts])
        return [
            {label: float(p) for label, p in zip(classes, row, strict=True) if label != NONE}
            for row in rows
        ]

    def suspect(
        self, text: str, threshold: float, self_harm_threshold: float | None = None
    ) -> Tuple[str, float] | None:
        """The likeliest category and its probability when it reaches ``threshold``;
        else self-harm when its probability reaches ``self_harm_threshold`` (a lower
        bar: the crisis line is offered on weaker evidence than a screening question)."""
        (scores,) = self.scores([text])
        return choose(scores, threshold, self_harm_threshold)


def choose(
    scores: Dict[str, float], threshold: float, self_harm_threshold: float | None = None
) -> Tuple[str, float] | None:
    """The category ``suspect`` reports for these probabilities, or None."""
    category, score = max(scores.items(), key=lambda item: item[1])
    if score >= threshold:
        return category, score
    self_harm = scores.get(SELF_HARM, 0.0)
    if self_harm_threshold is not None and self_harm >= self_harm_threshold:
        return SELF_HARM, self_harm
    return None
