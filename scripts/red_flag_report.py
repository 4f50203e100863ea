"""Prints the red-flag detector's recall and false positives over the test data files.

Usage: red_flag_report.py [--positives FILE] [--near-misses FILE] [--rules FILE] [-v]

Prints ``red-flag recall X/Y, false positives Z/W`` (a positive counts when its
category is among the flags found; a near-miss counts as a false positive when
any flag is found), then every miss. ``-v`` also prints recall per category.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "red_flags"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positives", type=Path, default=DATA / "positives.yml")
    parser.add_argument("--near-misses", type=Path, default=DATA / "near_misses.yml")
    parser.add_argument("--rules", type=Path, default=ROOT / "clinic" / "nlu" / "red_flags.yml")
    parser.add_argument("-v", "--verbose", action="store_true", help="recall per category")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from clinic.nlu.red_flag_rules import RedFlagDetector, load_rules
    from clinic.nlu.spacy_pipeline import build_pipeline, read_patterns

    nlp = build_pipeline(read_patterns())
    detector = RedFlagDetector(load_rules(args.rules))

    def flags(text: str) -> list[str]:
        # Lower-cased as Rasa's SpacyNLP does before parsing (case_sensitive: false).
        return [finding.category for finding in detector.find(nlp(text.lower()))]

    positives = yaml.safe_load(args.positives.read_text(encoding="utf-8"))
    near_misses = yaml.safe_load(args.near_misses.read_text(encoding="utf-8"))
    missed = [(case, flags(case["text"])) for case in positives]
    missed = [(case, found) for case, found in missed if case["category"] not in found]
    false_positives = [(text, found) for text in near_misses if (found := flags(text))]

    print(
        f"red-flag recall {len(positives) - len(missed)}/{len(positives)}, "
        f"false positives {len(false_positives)}/{len(near_misses)}"
    )
    if args.verbose:
        totals = Counter(case["category"] for case in positives)
        misses = Counter(case["category"] for case, _ in missed)
        for category, total in sorted(totals.items()):
            print(f"  {category:22s} {total - misses[category]}/{total}")
    for case, found in missed:
        print(f"  missed {case['category']}: {case['text']!r} (found {found or 'nothing'})")
    for text, found in false_positives:
        print(f"  false positive {found}: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
