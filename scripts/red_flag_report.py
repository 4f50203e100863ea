"""Prints how the two red-flag detectors do on the case files, and fails below the bar.

Usage: red_flag_report.py [-v] [--min-holdout-recall R] [--max-holdout-false-alarms F]
                          [--max-round17-false-alarms F] [--min-holdout-self-harm-recall S]
                          [--cv K]

Three case sets (see ``data/red_flags/`` and ``tests/red_flags/``):

- seed: the rules' own examples; every positive must be caught by the rules alone;
- development: written outside the rule work; rules and detector are tuned on it;
- held out: writing never used for tuning: round 6 (``holdout_positives.yml``,
  ``holdout_near_misses.yml``), round 17 (``holdout_round17_*``, all nine categories, by
  another writer) and a set of self-harm messages and near-misses
  (``holdout_self_harm_round10_*``). The recall bar holds for rounds 6 and 17; each has
  its own false-alarm bar; the self-harm bar counts the self-harm cases of all three.

A positive is *caught* when the rules find a warning sign (urgent reply at once) that
the context model does not veto, or the learned detector suspects one (screening
question; for self-harm the crisis reply at once). A self-harm positive counts only
when self-harm is what was found.
A near-miss is a *false alarm* when either detector fires. The learned detector is
trained here exactly as ``rasa train`` trains it (seed and development cases plus
the NLU data's intent examples), with the threshold from ``config.yml``.

``--cv K`` instead prints K-fold cross-validated recall and false alarms on the
development set for a range of thresholds, self-harm thresholds and veto thresholds:
how the three thresholds in ``config.yml`` are chosen, without the held-out part.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEED = ROOT / "data" / "red_flags"
HOLDOUT = ROOT / "tests" / "red_flags"
SELF_HARM = "self_harm"


def classifier_config() -> Dict:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("RedFlagClassifier"):
            return component
    raise SystemExit("config.yml has no RedFlagClassifier")


def thresholds() -> Tuple[float, float, float | None, float | None]:
    """The learned detector's threshold and self-harm threshold and the context model's
    veto thresholds (other findings, findings with self-harm) in ``config.yml`` (their
    defaults where unset)."""
    from clinic.nlu.red_flag_classifier import RedFlagClassifier

    config = {**RedFlagClassifier.get_default_config(), **classifier_config()}
    veto, self_harm_veto = config["veto_threshold"], config["self_harm_veto_threshold"]
    return (
        float(config["threshold"]),
        float(config["self_harm_threshold"]),
        None if veto is None else float(veto),
        None if self_harm_veto is None else float(self_harm_veto),
    )


def intent_examples() -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        example.get("text") for example in load_data(str(ROOT / "data" / "nlu")).intent_examples
    ]


class Detectors:
    """The rules (with typo correction and the previous message) and the learned model."""

    def __init__(self) -> None:
        from clinic.nlu.red_flag_extractor import RedFlagExtractor
        from clinic.nlu.spacy_pipeline import build_pipeline, read_patterns

        self.nlp = build_pipeline(read_patterns())
        self.extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
        self.others = intent_examples()

    def rules(self, case: dict) -> List[str]:
        turns = case["turns"] if "turns" in case else [case["text"]]
        previous = turns[-2] if len(turns) > 1 else None
        # Lower-cased as Rasa's SpacyNLP does before parsing (case_sensitive: false).
        doc = self.nlp(turns[-1].lower())
        return [e["value"] for e in self.extractor.entities(doc, self.nlp, previous)]

    def train(self, positives: List[dict], near_misses: List[dict]):
        """The learned detector and the context model, trained as ``rasa train`` does."""
        from clinic.nlu.red_flag_model import RedFlagModel, training_examples

        texts, labels = training_examples(positives, near_misses, self.others)
        return RedFlagModel().fit(texts, labels).fit_context(positives, near_misses)


def last_message(case: dict) -> str:
    return case["turns"][-1] if "turns" in case else case["text"]


def verdicts(
    rules: Callable[[dict], List[str]],
    scores: List[Dict[str, float]],
    cases: List[dict],
    threshold: float,
    self_harm_threshold: float | None = None,
    doubts: List[float] | None = None,
    veto: float | None = None,
    self_harm_veto: float | None = None,
) -> List[Tuple[str, str]]:
    """Per case: ("rules" | "learned" | "none", the category found or suspected). A
    rules' finding whose doubt reaches ``veto`` (``self_harm_veto`` when it includes
    self-harm) counts as none found."""
    from clinic.nlu.red_flag_model import choose

    out = []
    for i, (case, score) in enumerate(zip(cases, scores, strict=True)):
        found = rules(case)
        bar = self_harm_veto if SELF_HARM in found else veto
        if found and bar is not None and doubts is not None and doubts[i] >= bar:
            found = []
        if found:
            want = case.get("category")
            # Beside other signs the learned detector still adds self-harm at its bar.
            bar = self_harm_threshold if self_harm_threshold is not None else threshold
            if SELF_HARM not in found and score.get(SELF_HARM, 0.0) >= bar:
                found = [*found, SELF_HARM]
            out.append(("rules", want if want in found else found[0]))
            continue
        suspected = choose(score, threshold, self_harm_threshold)
        out.append(("learned", suspected[0]) if suspected else ("none", ""))
    return out


def caught(case: dict, verdict: Tuple[str, str]) -> bool:
    how, category = verdict
    if how == "none":
        return False
    return category == SELF_HARM if case["category"] == SELF_HARM else True


def report(name: str, positives, near_misses, pos_verdicts, neg_verdicts, verbose: bool):
    hits = [caught(c, v) for c, v in zip(positives, pos_verdicts, strict=True)]
    at_once = sum(
        1 for c, v in zip(positives, pos_verdicts, strict=True) if v[0] == "rules" and caught(c, v)
    )
    alarms = [v for v in neg_verdicts if v[0] != "none"]
    recall = sum(hits) / len(positives)
    false_alarm = len(alarms) / len(near_misses)
    print(
        f"red flags, {name}: recall {sum(hits)}/{len(positives)} = {recall:.3f} "
        f"({at_once} urgent at once, {sum(hits) - at_once} by screening), "
        f"false alarms {len(alarms)}/{len(near_misses)} = {false_alarm:.3f} "
        f"({sum(1 for v in alarms if v[0] == 'rules')} rules, "
        f"{sum(1 for v in alarms if v[0] == 'learned')} learned)"
    )
    if verbose:
        totals = Counter(c["category"] for c in positives)
        got = Counter(c["category"] for c, h in zip(positives, hits, strict=True) if h)
        for category in sorted(totals):
            print(f"  {category:22s} {got[category]}/{totals[category]}")
        for case, hit, verdict in zip(positives, hits, pos_verdicts, strict=True):
            if not hit:
                print(
                    f"  missed {case['category']}: {case.get('turns') or case['text']!r} {verdict}"
                )
        for case, verdict in zip(near_misses, neg_verdicts, strict=True):
            if verdict[0] != "none":
                print(f"  false alarm {verdict}: {case['text']!r}")
    return recall, false_alarm, hits, positives


def cross_validate(detectors: Detectors, seed_pos, seed_neg, dev_pos, dev_neg, folds: int) -> None:
    rng = random.Random(1)
    pos_fold = [rng.randrange(folds) for _ in dev_pos]
    neg_fold = [rng.randrange(folds) for _ in dev_neg]
    pos_scores: List[Dict[str, float]] = [{} for _ in dev_pos]
    neg_scores: List[Dict[str, float]] = [{} for _ in dev_neg]
    pos_doubts = [0.0 for _ in dev_pos]
    neg_doubts = [0.0 for _ in dev_neg]
    for k in range(folds):
        model = detectors.train(
            seed_pos + [c for c, f in zip(dev_pos, pos_fold, strict=True) if f != k],
            seed_neg + [c for c, f in zip(dev_neg, neg_fold, strict=True) if f != k],
        )
        for i, f in enumerate(pos_fold):
            if f == k:
                pos_scores[i] = model.scores([last_message(dev_pos[i])])[0]
                pos_doubts[i] = model.doubt([last_message(dev_pos[i])])[0]
        for i, f in enumerate(neg_fold):
            if f == k:
                neg_scores[i] = model.scores([last_message(dev_neg[i])])[0]
                neg_doubts[i] = model.doubt([last_message(dev_neg[i])])[0]
    found = {id(case): detectors.rules(case) for case in dev_pos + dev_neg}

    def rules(case: dict) -> List[str]:
        return found[id(case)]

    for threshold, self_harm_threshold, veto, self_harm_veto in itertools.product(
        (0.4, 0.5, 0.6), (0.4, 0.3), (None, 0.8, 0.9), (None, 0.9, 0.95, 0.98)
    ):
        bars = (threshold, self_harm_threshold)
        vetoes = (veto, self_harm_veto)
        _, _, hits, _ = report(
            f"development {folds}-fold, threshold {threshold}, self-harm {self_harm_threshold}, "
            f"veto {veto}, self-harm veto {self_harm_veto}",
            dev_pos,
            dev_neg,
            verdicts(rules, pos_scores, dev_pos, *bars, pos_doubts, *vetoes),
            verdicts(rules, neg_scores, dev_neg, *bars, neg_doubts, *vetoes),
            verbose=False,
        )
        self_harm = [h for c, h in zip(dev_pos, hits, strict=True) if c["category"] == SELF_HARM]
        print(f"  self-harm recall {sum(self_harm)}/{len(self_harm)}")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="per category, and misses")
    parser.add_argument("--holdout-misses", action="store_true", help="list held-out misses too")
    parser.add_argument("--min-holdout-recall", type=float, default=0.0)
    parser.add_argument("--max-holdout-false-alarms", type=float, default=1.0)
    parser.add_argument("--max-round17-false-alarms", type=float, default=1.0)
    parser.add_argument("--min-holdout-self-harm-recall", type=float, default=0.0)
    parser.add_argument("--cv", type=int, default=0, help="K-fold threshold table on development")
    args = parser.parse_args(argv)

    from clinic.nlu.red_flag_model import read_cases

    seed_pos = read_cases(SEED / "seed_positives.yml")
    seed_neg = read_cases(SEED / "seed_near_misses.yml")
    dev_pos = read_cases(SEED / "dev_positives.yml")
    dev_neg = read_cases(SEED / "dev_near_misses.yml")
    hold_pos = read_cases(HOLDOUT / "holdout_positives.yml")
    hold_neg = read_cases(HOLDOUT / "holdout_near_misses.yml")
    # A second held-out set, of self-harm only (round 10): its warning signs count
    # towards the held-out self-harm recall; its near-misses are all about self-harm, so
    # their false alarms are printed apart from the general held-out figure.
    sh_pos = read_cases(HOLDOUT / "holdout_self_harm_round10_positives.yml")
    sh_neg = read_cases(HOLDOUT / "holdout_self_harm_round10_near_misses.yml")
    r17_pos = read_cases(HOLDOUT / "holdout_round17_positives.yml")
    r17_neg = read_cases(HOLDOUT / "holdout_round17_near_misses.yml")
    detectors = Detectors()
    if args.cv:
        cross_validate(detectors, seed_pos, seed_neg, dev_pos, dev_neg, args.cv)
        return 0

    threshold, self_harm_threshold, veto, self_harm_veto = thresholds()
    seed_missed = [c for c in seed_pos if c["category"] not in detectors.rules(c)]
    seed_false = [c for c in seed_neg if detectors.rules(c)]
    seed_caught = len(seed_pos) - len(seed_missed)
    print(
        f"red flags, seed (rules alone): recall {seed_caught}/{len(seed_pos)}, "
        f"false alarms {len(seed_false)}/{len(seed_neg)}"
    )
    model = detectors.train(seed_pos + dev_pos, seed_neg + dev_neg)
    results = {}
    for name, pos, neg in (
        ("development", dev_pos, dev_neg),
        ("held out", hold_pos, hold_neg),
        ("held out, self-harm only", sh_pos, sh_neg),
        ("held out, round 17", r17_pos, r17_neg),
    ):
        pos_v, neg_v = (
            verdicts(
                detectors.rules,
                model.scores([last_message(c) for c in cases]),
                cases,
                threshold,
                self_harm_threshold,
                model.doubt([last_message(c) for c in cases]),
                veto,
                self_harm_veto,
            )
            for cases in (pos, neg)
        )
        verbose = args.verbose and (name == "development" or args.holdout_misses)
        results[name] = report(name, pos, neg, pos_v, neg_v, verbose)
    recall, false_alarm, hits, positives = results["held out"]
    recall_17, false_alarm_17 = results["held out, round 17"][:2]
    self_harm = [
        hit
        for name in ("held out", "held out, self-harm only", "held out, round 17")
        for case, hit in zip(results[name][3], results[name][2], strict=True)
        if case["category"] == SELF_HARM
    ]
    print(
        f"red flags, held out (all three sets): self-harm recall {sum(self_harm)}/{len(self_harm)}"
    )
    failed = []
    if recall < args.min_holdout_recall:
        failed.append(f"held-out recall {recall:.3f} < {args.min_holdout_recall}")
    if false_alarm > args.max_holdout_false_alarms:
        failed.append(f"held-out false alarms {false_alarm:.3f} > {args.max_holdout_false_alarms}")
    if recall_17 < args.min_holdout_recall:
        failed.append(f"round 17 held-out recall {recall_17:.3f} < {args.min_holdout_recall}")
    if false_alarm_17 > args.max_round17_false_alarms:
        failed.append(
            f"round 17 held-out false alarms {false_alarm_17:.3f} > {args.max_round17_false_alarms}"
        )
    if self_harm and sum(self_harm) / len(self_harm) < args.min_holdout_self_harm_recall:
        failed.append(f"held-out self-harm recall below {args.min_holdout_self_harm_recall}")
    for line in failed:
        print(f"FAILED: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
