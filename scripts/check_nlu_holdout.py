"""Prints the held-out intent accuracy from `rasa test nlu` and enforces a floor.

Usage: check_nlu_holdout.py RESULTS/intent_report.json --min-accuracy 0.90
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--min-accuracy", type=float, required=True)
    args = parser.parse_args(argv)

    report = json.loads(args.report.read_text(encoding="utf-8"))
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    total = report["macro avg"]["support"]
    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "confused_with" in v}
    weakest = sorted(intents.items(), key=lambda item: item[1]["f1-score"])[:5]

    print(
        f"held-out NLU: {total} messages, intent accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}"
    )
    for name, scores in weakest:
        confused = ", ".join(f"{k} x{v}" for k, v in scores["confused_with"].items()) or "-"
        print(f"  {name:28s} F1 {scores['f1-score']:.2f}  confused with: {confused}")

    errors_file = args.report.parent / "intent_errors.json"
    if errors_file.exists():
        for error in json.loads(errors_file.read_text(encoding="utf-8")):
            predicted = error["intent_prediction"]
            print(
                f"  miss: {error['text']!r} is {error['intent']}, "
                f"predicted {predicted['name']} ({predicted['confidence']:.2f})"
            )

    if accuracy < args.min_accuracy:
        print(f"FAIL: held-out intent accuracy {accuracy:.3f} < {args.min_accuracy:.2f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
