"""Compares intent classifiers side by side, outside Rasa's training CLI, on Rasa's own data.

Usage: compare_nlu.py [--cv] [--clinc DIR]

For each candidate (the floor from the issue and the project's LinearIntentClassifier) it
prints: held-out accuracy on tests/nlu_holdout.yml (an in-domain message predicted out_of_scope
or below the threshold is wrong; an out_of_scope one is right when rejected), the same as
`rasa test nlu` counts it (nlu_fallback is not out_of_scope), off-topic rejection on the
CLINC150 `val` split without small_talk/meta plus `oos_val`, training time and ms per message.
A message is rejected when the top intent is out_of_scope, below `threshold`, or (with
`ambiguity`) within that of the second intent, as FallbackClassifier decides.

--cv runs the 5-fold cross-validation on the training data that chose the settings: in-domain
accuracy on held-out folds of data/nlu, and rejection of CLINC `train` queries not used for
training, from a fifth of the CLINC intents left out of training in each fold (unseen topics).
No held-out set takes part in it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple, TypedDict

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic.nlu.linear_intent_classifier import build_pipeline  # noqa: E402

CLINC = Path("/work/shared/data/clinc150")
CLINC_FILE = ROOT / "data/nlu/out_of_scope_clinc150.yml"
LEFT_OUT_DOMAINS = {"small_talk", "meta"}
OOS = "out_of_scope"


class Candidate(TypedDict):
    name: str
    pipeline: Dict[str, Any]  # build_pipeline arguments
    threshold: float
    ambiguity: float
    floor_data: bool  # the floor: 3,000 random CLINC queries instead of our file


CANDIDATES: List[Candidate] = [
    {
        "name": "floor: lbfgs C=20, char_wb 2-5, 3000 random",
        "pipeline": {"c": 20.0, "char_ngrams": (2, 5), "solver": "lbfgs"},
        "threshold": 0.4,
        "ambiguity": 0.0,
        "floor_data": True,
    },
    {
        "name": "liblinear C=100, char_wb 1-4, t=0.3",
        "pipeline": {},
        "threshold": 0.3,
        "ambiguity": 0.0,
        "floor_data": False,
    },
    {
        "name": "same, FallbackClassifier ambiguity 0.1",
        "pipeline": {},
        "threshold": 0.3,
        "ambiguity": 0.1,
        "floor_data": False,
    },
    {
        "name": "same, t=0.5",
        "pipeline": {},
        "threshold": 0.5,
        "ambiguity": 0.0,
        "floor_data": False,
    },
]


def examples(path: Path) -> Tuple[List[str], List[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    pairs = [(m.get("text"), m.get("intent")) for m in data.intent_examples if m.get("text")]
    return [t for t, _ in pairs], [i for _, i in pairs]


def clinc() -> Tuple[dict, Dict[str, str]]:
    splits = json.loads((CLINC / "train_val.json").read_text(encoding="utf-8"))
    domains = json.loads((CLINC / "domains.json").read_text(encoding="utf-8"))
    return splits, {i: d for d, intents in domains.items() for i in intents}


def rejected(probs: np.ndarray, classes: List[str], threshold: float, ambiguity: float):
    top2 = np.sort(probs, axis=1)[:, -2:]
    return (
        (probs.argmax(1) == classes.index(OOS))
        | (top2[:, 1] < threshold)
        | (top2[:, 1] - top2[:, 0] < ambiguity)
    )


def accuracy(probs, classes, gold: Sequence[str], threshold: float, ambiguity: float):
    """(ours, as `rasa test nlu` counts it without / with out_of_scope_threshold)."""
    rej = rejected(probs, classes, threshold, ambiguity)
    best = [classes[i] for i in probs.argmax(1)]
    ours = [(g == OOS) == r and (r or p == g) for g, r, p in zip(gold, rej, best, strict=True)]
    # FallbackClassifier alone: a rejected message is nlu_fallback unless predicted out_of_scope
    rasa = [(p == g) and (not r or p == OOS) for g, r, p in zip(gold, rej, best, strict=True)]
    return float(np.mean(ours)), float(np.mean(rasa))


def run(candidate: Candidate, texts, labels, floor_texts, holdout, val) -> Dict[str, Any]:
    x, y = (floor_texts, [OOS] * len(floor_texts)) if candidate["floor_data"] else ([], [])
    x, y = [t.lower() for t in texts + x], labels + y
    pipeline = build_pipeline(**candidate["pipeline"])
    wall, cpu = time.perf_counter(), time.process_time()
    pipeline.fit(x, y)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    classes = [str(c) for c in pipeline.classes_]
    start = time.perf_counter()
    for text in holdout[0][:200]:
        pipeline.predict_proba([text.lower()])
    ms = (time.perf_counter() - start) * 1000 / min(200, len(holdout[0]))
    t, a = candidate["threshold"], candidate["ambiguity"]
    ours, rasa = accuracy(
        pipeline.predict_proba([h.lower() for h in holdout[0]]), classes, holdout[1], t, a
    )
    val_probs = pipeline.predict_proba([v.lower() for v, _ in val])
    rej = rejected(val_probs, classes, t, a)
    return {
        "n": len(x),
        "wall": wall,
        "cpu": cpu,
        "ms": ms,
        "acc": ours,
        "rasa": rasa,
        "reject": float(rej.mean()),
        "by_intent": [(i, r) for (_, i), r in zip(val, rej, strict=True)],
    }


def cross_validate(texts, labels, clinc_texts_for, settings, folds=5) -> None:
    from sklearn.model_selection import StratifiedKFold

    splits, domain_of = clinc()
    print(f"\n5-fold CV on data/nlu without {CLINC_FILE.name} (+ CLINC train per setting)")
    kept = sorted({i for _, i in splits["train"] if domain_of[i] not in LEFT_OUT_DOMAINS})
    random.Random(3).shuffle(kept)
    for per_intent, pipeline_args in settings:
        chosen = clinc_texts_for(per_intent)
        intent_of = dict((t, i) for t, i in splits["train"])
        unused = [
            (t, i)
            for t, i in splits["train"]
            if domain_of[i] not in LEFT_OUT_DOMAINS and t not in set(chosen)
        ]
        unused = random.Random(1).sample(unused, 6000)
        scores: Dict[Tuple[float, float], List[Tuple[float, float]]] = {}
        cpu = 0.0
        for fold, (train, test) in enumerate(
            StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, labels)
        ):
            unseen = set(kept[fold::folds])
            off = [t for t in chosen if intent_of.get(t) not in unseen]
            x = [texts[i].lower() for i in train] + [t.lower() for t in off]
            y = [labels[i] for i in train] + [OOS] * len(off)
            pipeline = build_pipeline(**pipeline_args)
            start = time.process_time()
            pipeline.fit(x, y)
            cpu += time.process_time() - start
            classes = [str(c) for c in pipeline.classes_]
            p_in = pipeline.predict_proba([texts[i].lower() for i in test])
            p_off = pipeline.predict_proba([t.lower() for t, i in unused if i in unseen])
            for t in (0.2, 0.3, 0.4, 0.5):
                for a in (0.0, 0.1):
                    acc = accuracy(p_in, classes, [labels[i] for i in test], t, a)[0]
                    scores.setdefault((t, a), []).append(
                        (acc, float(rejected(p_off, classes, t, a).mean()))
                    )
        print(f"  {per_intent:3d}/intent {pipeline_args}  cpu {cpu / folds:.1f} s a fit")
        for (t, a), s in sorted(scores.items()):
            acc, rej = np.mean(s, axis=0)
            print(
                f"      t={t} ambiguity={a}: in-domain {acc:.3f}, "
                f"unseen off-topic rejected {rej:.3f}"
            )


def main(argv: List[str] | None = None) -> int:
    global CLINC
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="also run the cross-validation grid")
    parser.add_argument("--clinc", type=Path, default=CLINC)
    args = parser.parse_args(argv)
    CLINC = args.clinc

    import warnings

    warnings.filterwarnings("ignore")
    texts, labels = examples(ROOT / "data/nlu")
    ours = set(examples(CLINC_FILE)[0])
    base = [(t, i) for t, i in zip(texts, labels, strict=True) if t not in ours]
    splits, domain_of = clinc()
    pool = [t for t, i in splits["train"] if domain_of[i] not in LEFT_OUT_DOMAINS]
    floor_texts = random.Random(0).sample(pool, 3000)
    holdout = examples(ROOT / "tests/nlu_holdout.yml")
    val = [(t, i) for t, i in splits["val"] if domain_of[i] not in LEFT_OUT_DOMAINS]
    val += [(t, "oos") for t, _ in splits["oos_val"]]
    dropped = {i for _, i in splits["train"] if domain_of[i] not in LEFT_OUT_DOMAINS} - {
        i for t, i in splits["train"] if t in ours
    }

    print(
        f"training: {len(texts)} examples from data/nlu ({len(ours)} from {CLINC_FILE.name}); "
        f"held-out: {len(holdout[0])}; CLINC val+oos_val: {len(val)}"
    )
    print(
        f"{'candidate':46s} {'train s':>8s} {'cpu s':>6s} {'ms/msg':>7s} {'held-out':>9s} "
        f"{'rasa-nlu':>9s} {'val rej':>8s} {'w/o drop':>8s}"
    )
    for candidate in CANDIDATES:
        if candidate["floor_data"]:
            r = run(
                candidate, [t for t, _ in base], [i for _, i in base], floor_texts, holdout, val
            )
        else:
            r = run(candidate, texts, labels, [], holdout, val)
        kept = [rej for i, rej in r["by_intent"] if i not in dropped]
        print(
            f"{candidate['name']:46s} {r['wall']:8.1f} {r['cpu']:6.1f} {r['ms']:7.2f} "
            f"{r['acc']:9.3f} {r['rasa']:9.3f} {r['reject']:8.3f} {np.mean(kept):8.3f}"
        )
    print(
        "held-out: ours; rasa-nlu: as `rasa test nlu` counts it with FallbackClassifier alone "
        "(nlu_fallback != out_of_scope); w/o drop: val rejection without the CLINC intents "
        "left out of the training file"
    )

    if args.cv:

        def clinc_texts_for(per_intent: int) -> List[str]:
            by: Dict[str, List[str]] = {}
            for t, i in splits["train"]:
                if domain_of[i] not in LEFT_OUT_DOMAINS and i not in dropped:
                    by.setdefault(i, []).append(t)
            rng = random.Random(150)
            return [t for i in sorted(by) for t in rng.sample(by[i], per_intent)] + [
                t for t, _ in splits["oos_train"]
            ]

        settings = [
            (10, {}),
            (25, {}),
            (50, {}),
            (25, {"c": 30.0}),
            (25, {"c": 300.0}),
            (25, {"char_ngrams": (2, 5)}),
        ]
        cross_validate([t for t, _ in base], [i for _, i in base], clinc_texts_for, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
