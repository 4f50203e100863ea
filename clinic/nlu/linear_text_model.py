"""``predict_proba`` of a fitted TF-IDF + logistic regression pipeline, minus its overhead.

Both learned NLU components (``LinearIntentClassifier``, ``RedFlagClassifier`` through
``RedFlagModel``) are scikit-learn pipelines of the same shape::

    make_pipeline(make_union(TfidfVectorizer(...), TfidfVectorizer(...)),
                  LogisticRegression(solver="liblinear"))  # one-vs-rest

On one message scikit-learn's ``predict_proba`` takes about 5 ms, nearly all of it
outside the arithmetic: ``FeatureUnion`` starts a joblib ``Parallel`` run, every step
checks again that it is fitted (``TfidfTransformer``'s check sums its whole idf matrix)
and validates its input, some ten SciPy sparse matrices are built and checked, and the
final product copies the transposed coefficients (features x classes) on every call.

``LinearTextModel`` computes the same numbers in the same order with plain arrays:

1. counts of the vectorizer's analyzer output (built once), by ascending column, as
   ``CountVectorizer`` leaves them after ``sort_indices``;
2. ``np.log(x, x); x += 1`` (sublinear tf), then times the idf of each column, one
   product each, as ``X * _idf_diag`` makes them; SciPy's ``csr_matmat`` writes a row's
   products in reverse order, so they are reversed here too;
3. scikit-learn's own ``inplace_csr_row_normalize_l2`` on those arrays (the sum of
   squares runs in stored order, so the order above matters);
4. the vectorizers' rows side by side, as SciPy's ``hstack`` concatenates them, and
   SciPy's own ``csr_matvecs`` (what ``X @ coef_.T`` runs) against the contiguous
   transposed coefficients, made once;
5. ``+ intercept_``, ``expit`` and the one-vs-rest normalisation, as scikit-learn does.

The probabilities are therefore identical to the last bit, which
``tests/test_linear_text_model.py`` checks on the training data of both models. Only a
pipeline of exactly this shape (l2 norm, idf, more than two classes) is wrapped;
``wrap`` returns None for any other, which keeps scikit-learn's own ``predict_proba``.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, NamedTuple, Sequence, Tuple

import numpy as np


class LinearTextModel:
    """``pipeline.predict_proba(texts)``, for a pipeline that ``wrap`` accepts."""

    def __init__(self, pipeline: Any) -> None:
        union, classifier = pipeline.steps[0][1], pipeline.steps[-1][1]
        self._vectorizers = [
            _Vectorizer(
                columns=_columns_of(vectorizer),
                idf=vectorizer._tfidf._idf_diag.diagonal(),
                sublinear_tf=bool(vectorizer._tfidf.sublinear_tf),
                width=len(vectorizer.vocabulary_),
            )
            for _, vectorizer in union.transformer_list
        ]
        self._width = sum(vectorizer.width for vectorizer in self._vectorizers)
        self.classes_ = classifier.classes_
        # What X @ coef_.T hands to csr_matvecs: coef_.T as one C-ordered array. The
        # estimator's own coef_ becomes its transposed view: the same numbers, held once
        # instead of twice (11 MB for the red-flag model), and scikit-learn's X @ coef_.T
        # then needs no copy either.
        self._coef_t = np.ascontiguousarray(classifier.coef_.T)
        classifier.coef_ = self._coef_t.T
        self._intercept = classifier.intercept_

    @classmethod
    def wrap(cls, pipeline: Any) -> LinearTextModel | None:
        """The fast model of ``pipeline``, or None when it is not of the known shape."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        if type(pipeline) is not Pipeline or len(pipeline.steps) != 2:
            return None
        union, classifier = pipeline.steps[0][1], pipeline.steps[1][1]
        if type(union) is not FeatureUnion or type(classifier) is not LogisticRegression:
            return None
        if union.transformer_weights or not union.transformer_list:
            return None
        for _, vectorizer in union.transformer_list:
            if type(vectorizer) is not TfidfVectorizer or not hasattr(vectorizer, "vocabulary_"):
                return None
            tfidf = vectorizer._tfidf
            if vectorizer.binary or vectorizer.input != "content":
                return None
            if not tfidf.use_idf or tfidf.norm != "l2" or not hasattr(tfidf, "_idf_diag"):
                return None
            if np.dtype(vectorizer.dtype) != np.float64:
                return None
        one_vs_rest = classifier.multi_class in ("ovr", "warn") or (
            classifier.multi_class == "auto"
            and (classifier.classes_.size <= 2 or classifier.solver == "liblinear")
        )
        if not one_vs_rest or not hasattr(classifier, "coef_") or classifier.coef_.shape[0] < 2:
            return None
        if classifier.coef_.dtype != np.float64:
            return None
        return cls(pipeline)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.special import expit

        prob = self._scores(texts, self._coef_t) + self._intercept
        # LinearClassifierMixin._predict_proba_lr: one-vs-rest, more than one class
        expit(prob, out=prob)
        prob /= prob.sum(axis=1).reshape((prob.shape[0], -1))
        return prob

    def binary_proba(self, texts: Sequence[str], head: BinaryHead) -> np.ndarray:
        """``head``'s ``predict_proba`` on this model's features of ``texts``: a binary
        logistic regression fitted on ``pipeline[0].transform(...)``, as the red-flag
        context model is. The same numbers as
        ``classifier.predict_proba(pipeline[0].transform(texts))``."""
        from scipy.special import expit

        if head.coef_t.shape[0] != self._width:
            raise ValueError(
                f"the binary model has {head.coef_t.shape[0]} features, these are {self._width}"
            )
        # LinearClassifierMixin.decision_function, then _predict_proba_lr for one column.
        decision = (self._scores(texts, head.coef_t) + head.intercept).ravel()
        expit(decision, out=decision)
        return np.vstack([1 - decision, decision]).T

    def _scores(self, texts: Sequence[str], coef_t: np.ndarray) -> np.ndarray:
        """``X @ coef_.T`` for the FeatureUnion's rows ``X`` of ``texts``."""
        from scipy.sparse import _sparsetools

        if isinstance(texts, str):
            raise ValueError("Iterable over raw text documents expected, string given.")
        if not texts:  # as scikit-learn's check_array refuses it
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        # The FeatureUnion's rows: per text each vectorizer's entries in turn, their
        # columns offset by the widths before (as SciPy's hstack lays them out).
        indptr = [0]
        index_parts: List[np.ndarray] = []
        data_parts: List[np.ndarray] = []
        for text in texts:
            offset = 0
            for vectorizer in self._vectorizers:
                indices, data = _tfidf_row(vectorizer, text)
                index_parts.append(indices + offset)
                data_parts.append(data)
                offset += vectorizer.width
            indptr.append(sum(len(data) for data in data_parts))
        classes = coef_t.shape[1]
        scores = np.zeros((len(texts), classes), dtype=np.float64)
        if data_parts:  # X @ coef_.T as SciPy computes it
            _sparsetools.csr_matvecs(
                len(texts),
                self._width,
                classes,
                np.asarray(indptr, dtype=np.int32),
                np.concatenate(index_parts).astype(np.int32, copy=False),
                np.concatenate(data_parts),
                coef_t.ravel(),
                scores.ravel(),
            )
        return scores


class BinaryHead(NamedTuple):
    """A fitted binary ``LogisticRegression`` as ``LinearTextModel.binary_proba`` reads it."""

    coef_t: np.ndarray  # coef_.T, C-ordered (features x 1)
    intercept: np.ndarray

    @classmethod
    def of(cls, classifier: Any) -> BinaryHead:
        return cls(np.ascontiguousarray(classifier.coef_.T), classifier.intercept_)


class _Vectorizer(NamedTuple):
    columns: Callable[[str], List[int]]  # text -> column of each known feature
    idf: np.ndarray  # per column
    sublinear_tf: bool
    width: int  # number of columns


def _tfidf_row(vectorizer: _Vectorizer, text: str) -> Tuple[np.ndarray, np.ndarray]:
    """``TfidfVectorizer.transform([text])``: column indices and values as SciPy stores them."""
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

    # Feature -> column is one-to-one: counting columns counts the features.
    counter = Counter(vectorizer.columns(text))
    columns = sorted(counter)  # CountVectorizer: X.sort_indices()
    x = np.asarray([counter[index] for index in columns], dtype=np.float64)
    if vectorizer.sublinear_tf:
        np.log(x, x)
        x += 1
    indices = np.asarray(columns, dtype=np.int32)
    # X * _idf_diag: one product per entry, zero products dropped, each row's entries
    # written in reverse order (SciPy's csr_matmat).
    x = x * vectorizer.idf[indices]
    keep = x != 0
    row = SimpleNamespace(
        data=x[keep][::-1].copy(),
        indices=indices[keep][::-1].copy(),
        indptr=np.asarray([0, int(keep.sum())], dtype=np.int32),
        shape=(1, vectorizer.width),
    )
    inplace_csr_row_normalize_l2(row)  # scikit-learn's own, in place, in stored order
    return row.indices, row.data


def predict_proba(pipeline: Any, fast: LinearTextModel | None, texts: List[str]) -> np.ndarray:
    """``fast``'s probabilities when there is a fast model, else the pipeline's own."""
    return fast.predict_proba(texts) if fast is not None else pipeline.predict_proba(texts)


WORD_CACHE_SIZE = 50_000


def _columns_of(vectorizer: Any) -> Callable[[str], List[int]]:
    """text -> the column of each of its features in the vocabulary, as many times as
    the analyzer makes the feature.

    ``char_wb`` n-grams never cross a word (the analyzer splits the preprocessed text
    on whitespace and pads each word), so a text's features are its words' features:
    each word's columns are worked out once (for the first ``WORD_CACHE_SIZE`` words)
    with the vectorizer's own ``_char_wb_ngrams``.
    """
    vocabulary = vectorizer.vocabulary_
    analyze = vectorizer.build_analyzer()
    if vectorizer.analyzer != "char_wb" or vectorizer.preprocessor is not None:
        return lambda text: [vocabulary[f] for f in analyze(text) if f in vocabulary]
    decode = vectorizer.decode
    preprocess = vectorizer.build_preprocessor()
    ngrams = vectorizer._char_wb_ngrams
    words: Dict[str, List[int]] = {}

    def columns(text: str) -> List[int]:
        found: List[int] = []
        for word in preprocess(decode(text)).split():
            known = words.get(word)
            if known is None:
                known = [vocabulary[f] for f in ngrams(word) if f in vocabulary]
                if len(words) < WORD_CACHE_SIZE:
                    words[word] = known
            found.extend(known)
        return found

    return columns


def fit_one_vs_rest(pipeline: Any, texts: List[str], labels: List[str], threads: int = 2) -> Any:
    """``pipeline.fit(texts, labels)`` for the shape above, with its one-vs-rest logistic
    regressions fitted ``threads`` at a time.

    ``LogisticRegression(solver="liblinear")`` fits its one-vs-rest problems one after the
    other, in one C call. Here each class against the rest is a binary logistic regression
    of the same settings (liblinear releases the GIL, so threads run them side by side),
    and their ``coef_`` and ``intercept_`` rows are stacked into the pipeline's own
    estimator in the order of ``classes_``, which is how its ``predict_proba`` reads them.
    With ``class_weight`` each binary problem is weighed as liblinear weighs it inside its
    own one-vs-rest. The coefficients match the sequential fit's to the solver's
    tolerance (liblinear orders the labels of a binary problem its own way), not to the
    last bit.
    """
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.base import clone

    union, classifier = pipeline.steps[0][1], pipeline.steps[-1][1]
    x = union.fit_transform(texts)
    y = np.asarray(labels)
    classes = np.unique(y)
    if len(classes) <= 2:
        classifier.fit(x, y)
        return pipeline

    weights: Dict[Any, float] = {}
    if classifier.class_weight is not None:
        from sklearn.utils.class_weight import compute_class_weight

        found = compute_class_weight(classifier.class_weight, classes=classes, y=y)
        weights = dict(zip(classes, found, strict=True))

    def one(label: Any) -> Any:
        binary = clone(classifier)
        if weights:
            # As liblinear's own one-vs-rest weighs them: C times the class's weight for
            # the class, plain C for the rest.
            binary.set_params(class_weight={1: weights[label], 0: 1.0})
        return binary.fit(x, (y == label).astype(np.int64))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        binaries = list(pool.map(one, classes))
    classifier.classes_ = classes
    classifier.coef_ = np.vstack([binary.coef_ for binary in binaries])
    classifier.intercept_ = np.concatenate([binary.intercept_ for binary in binaries])
    # As liblinear reports it for one-vs-rest: the most iterations of any class.
    classifier.n_iter_ = np.asarray([max(int(binary.n_iter_.max()) for binary in binaries)])
    classifier.n_features_in_ = x.shape[1]
    return pipeline
