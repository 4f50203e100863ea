"""NLU figures: held-out intent accuracy and macro-F1, cross-validation, red flags,
and the off-topic set (checked to be apart from the training data)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from tests.servers import ROOT, VENV_BIN

OFF_TOPIC = ROOT / "bench" / "data" / "off_topic.yml"
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
RED_FLAGS = ROOT / "data" / "red_flags"
# Off-topic counts as rejected when NLU says so or the bot declines / asks to rephrase.
REJECT_INTENTS = {"out_of_scope", "nlu_fallback"}
REJECT_ACTIONS = {
    "utter_out_of_scope",
    "utter_default",
    "action_default_fallback",
    "utter_ask_rephrase",
    "action_default_ask_affirmation",
    "action_two_stage_fallback",
}
_ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Lower case, entity annotations reduced to their text, punctuation and spaces collapsed."""
    text = _ANNOTATION.sub(r"\1", text).lower()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def examples(path: Path) -> List[Tuple[str, str]]:
    """``(text, intent)`` pairs of a Rasa YAML NLU file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):  # data/red_flags/: case lists, not NLU data
        return []
    pairs: List[Tuple[str, str]] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((_ANNOTATION.sub(r"\1", line[2:].strip()), block["intent"]))
    return pairs


def training_texts() -> set[str]:
    return {
        normalise(text) for path in (ROOT / "data").rglob("*.yml") for text, _ in examples(path)
    }


def off_topic_messages() -> List[str]:
    """The off-topic set; fails when one of them is also a training example."""
    messages = [text for text, _ in examples(OFF_TOPIC)]
    overlap = sorted({normalise(m) for m in messages} & training_texts())
    if overlap:
        raise ValueError(f"{OFF_TOPIC} repeats training examples: {overlap[:10]}")
    if len({normalise(m) for m in messages}) != len(messages):
        raise ValueError(f"{OFF_TOPIC} has duplicates")
    return messages


def intent_scores(truth: List[str], predicted: List[str]) -> Dict[str, Any]:
    """Accuracy and macro-F1 as ``rasa test nlu`` computes them (sklearn's report)."""
    from sklearn.metrics import classification_report

    report = classification_report(truth, predicted, output_dict=True, zero_division=0)
    misses = [(t, p) for t, p in zip(truth, predicted, strict=True) if t != p]
    return {
        "messages": len(truth),
        "accuracy": round(float(report["accuracy"]), 4),
        "macro_f1": round(float(report["macro avg"]["f1-score"]), 4),
        "errors": len(misses),
    }


class ModelNLU:
    """A trained model's NLU, loaded in this process (Rasa's Agent)."""

    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog

        configure_logging_and_warnings(logging.WARNING)
        configure_structlog(logging.WARNING)  # no debug line per parsed message
        self.agent = Agent.load(str(model))

    async def parse(self, text: str) -> Dict[str, Any]:
        return await self.agent.parse_message(text)

    async def holdout(self) -> Dict[str, Any]:
        pairs = examples(HOLDOUT)
        self.holdout_parses = [await self.parse(text) for text, _ in pairs]
        self.holdout_truth = [intent for _, intent in pairs]
        predicted = [parsed["intent"]["name"] for parsed in self.holdout_parses]
        return intent_scores(self.holdout_truth, predicted)

    async def off_topic_intents(self, messages: List[str]) -> Dict[str, Any]:
        """NLU alone: the share classified out_of_scope or nlu_fallback."""
        self.off_topic_parses = [await self.parse(text) for text in messages]
        intents = [parsed["intent"]["name"] for parsed in self.off_topic_parses]
        rejected = sum(intent in REJECT_INTENTS for intent in intents)
        return {"messages": len(messages), "rejected": rejected, "rate": rate(rejected, messages)}

    def fallback_sweep(self, thresholds: List[float], ambiguity: float = 0.1) -> List[Dict]:
        """Held-out accuracy and off-topic NLU rejection had FallbackClassifier's
        ``threshold`` been each of ``thresholds`` (same model: the ranking is kept)."""
        rows = []
        for threshold in thresholds:
            held = [_fallback(p, threshold, ambiguity) for p in self.holdout_parses]
            off = [_fallback(p, threshold, ambiguity) for p in self.off_topic_parses]
            scores = intent_scores(self.holdout_truth, held)
            rejected = sum(intent in REJECT_INTENTS for intent in off)
            rows.append(
                {"threshold": threshold, "holdout_accuracy": scores["accuracy"]}
                | {
                    "holdout_macro_f1": scores["macro_f1"],
                    "off_topic_nlu_rate": rate(rejected, off),
                }
            )
        return rows

    async def red_flags(self) -> Dict[str, Any]:
        """Red-flag recall and false positives through the whole NLU pipeline."""
        positives = yaml.safe_load((RED_FLAGS / "seed_positives.yml").read_text(encoding="utf-8"))
        near = yaml.safe_load((RED_FLAGS / "seed_near_misses.yml").read_text(encoding="utf-8"))
        found = 0
        for case in positives:
            if case["category"] in await self._flags(case["text"]):
                found += 1
        false_positives = 0
        for text in near:
            false_positives += bool(await self._flags(text))
        return {
            "recall": round(found / len(positives), 4),
            "found": found,
            "positives": len(positives),
            "false_positives": false_positives,
            "near_misses": len(near),
        }

    async def _flags(self, text: str) -> List[str]:
        parsed = await self.parse(text)
        return [e.get("value") for e in parsed.get("entities", []) if e["entity"] == "red_flag"]


def _fallback(parsed: Dict[str, Any], threshold: float, ambiguity: float) -> str:
    """The intent FallbackClassifier would give with ``threshold`` / ``ambiguity``."""
    ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
    if not ranking:
        return str(parsed["intent"]["name"])
    top = ranking[0]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top["confidence"] < threshold or top["confidence"] - second < ambiguity:
        return "nlu_fallback"
    return str(top["name"])


def rate(count: int, of: List[Any]) -> float:
    return round(count / len(of), 4) if of else 0.0


def red_flag_component_report() -> Dict[str, Any]:
    """``scripts/red_flag_report.py``: the detector on its own test sets."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "red_flag_report.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(
        r"held out: recall (\d+)/(\d+) = [\d.]+ \((\d+) urgent at once, (\d+) by screening\), "
        r"false alarms (\d+)/(\d+)",
        out,
    )
    if not match:
        raise RuntimeError(f"unexpected red_flag_report output: {out[:300]}")
    found, total, at_once, screened, alarms, near = map(int, match.groups())
    return {
        "holdout_recall": round(found / total, 4),
        "found": found,
        "urgent_at_once": at_once,
        "by_screening": screened,
        "positives": total,
        "false_alarms": alarms,
        "near_misses": near,
        "output": [line for line in out.strip().splitlines() if line.startswith("red flags")],
    }


def cross_validation(config: Path, out: Path, folds: int = 5) -> Dict[str, Any]:
    """``rasa test nlu --cross-validation --folds N`` on data/nlu; accumulated test folds."""
    out.mkdir(parents=True, exist_ok=True)
    config = Path(shutil.copy(config, out / "config.yml"))  # Rasa may write into it
    subprocess.run(
        [
            str(VENV_BIN / "rasa"),
            "test",
            "nlu",
            "--nlu",
            str(ROOT / "data" / "nlu"),
            "--config",
            str(config),
            "--cross-validation",
            "--folds",
            str(folds),
            "--out",
            str(out),
            "--no-plot",
        ],
        cwd=ROOT,
        env={**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache")},  # cold, like training
        check=True,
        stdout=(out / "cv.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    return cross_validation_figures(out, folds)


def cross_validation_figures(out: Path, folds: int = 5) -> Dict[str, Any]:
    """Accuracy and macro-F1 of the accumulated test folds in ``out/intent_report.json``."""
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return {
        "folds": folds,
        "accuracy": round(float(report["accuracy"]), 4),
        "macro_f1": round(float(report["macro avg"]["f1-score"]), 4),
    }
