"""4-fold cross-validation of FactRetriever's model on the facts' paraphrases.

Usage: python scripts/fact_cv.py [C ...]   (default: 30 100 300)

The same training texts FactRetriever learns from (data/facts/facts.yml,
data/facts/other_questions.yml and the NLU data as "none"), in four folds chosen once at
random (seed 1). Per C: how many held-out paraphrases get their own fact at 0.3 or more,
and how many "none" messages are taken for a fact (or for not covered). Used to choose
`C` in config.yml.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402

from clinic.nlu.fact_retriever import (  # noqa: E402
    BROAD,
    NONE,
    _path,
    read_facts,
    read_other_questions,
    training_examples,
)
from clinic.nlu.linear_intent_classifier import build_pipeline  # noqa: E402
from clinic.nlu.linear_text_model import fit_one_vs_rest  # noqa: E402

FOLDS = 4
BAR = 0.3


def main(argv: list[str]) -> None:
    facts = read_facts(_path("data/facts/facts.yml"))
    other = read_other_questions(_path("data/facts/other_questions.yml"))
    nlu = load_data(str(ROOT / "data" / "nlu"))
    examples = [(e.get("text"), e.get("intent")) for e in nlu.intent_examples if e.get("text")]
    texts, labels = training_examples(facts, other, examples, 5)
    order = list(range(len(texts)))
    random.Random(1).shuffle(order)
    folds = [order[k::FOLDS] for k in range(FOLDS)]
    for c in [float(value) for value in argv] or [30.0, 100.0, 300.0]:
        right = facts_seen = taken = none_seen = 0
        started = time.time()
        for fold in folds:
            held = set(fold)
            train = [i for i in order if i not in held]
            pipeline = build_pipeline(c=c)
            fit_one_vs_rest(pipeline, [texts[i] for i in train], [labels[i] for i in train])
            names = list(pipeline.classes_)
            tested = sorted(held)
            rows = pipeline.predict_proba([texts[i] for i in tested])
            for i, row in zip(tested, rows, strict=True):
                best = int(row.argmax())
                sure = row[best] >= BAR
                if labels[i] == NONE:
                    none_seen += 1
                    taken += bool(sure and names[best] not in (NONE, BROAD))
                elif not labels[i].startswith("_"):
                    facts_seen += 1
                    right += bool(sure and names[best] == labels[i])
        print(
            f"C={c:g}: right fact at {BAR}+ {right}/{facts_seen} = {right / facts_seen:.3f};"
            f" none taken for a fact {taken}/{none_seen}; {time.time() - started:.0f} s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
