"""Splits a freshly written red-flag case set into a development part and a held-out fifth.

Usage: split_red_flag_set.py --positives F [F ...] --near-misses F [F ...] [--seed N]

Run once per new set, before anyone reads it: the held-out fifth is chosen at
random within each stratum (category and main style for positives, kind for
near-misses), so every category keeps typo, slang, long and third-person cases on
both sides. Writes ``data/red_flags/dev_*.yml`` (used to write rules, train the
learned detector and choose its threshold) and ``tests/red_flags/holdout_*.yml``
(only measured, by ``scripts/red_flag_report.py --holdout``). Appends to existing
files, so a later set adds to both parts without moving earlier cases.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
STYLE_ORDER = ("two_message", "third_person", "long", "second_language", "slang", "typo", "plain")
HEADER = {
    "dev": "# Development part of the red-flag case set: rules, the learned detector and its\n"
    "# threshold are tuned on it. Written outside the team's rule work; split by\n"
    "# scripts/split_red_flag_set.py.\n",
    "holdout": "# Held-out part of the red-flag case set: a fifth chosen at random once, never\n"
    "# used to write rules, train the detector or choose a threshold; only measured.\n",
}


def stratum(case: dict) -> Tuple[str, str]:
    if "category" not in case:
        return ("near_miss", str(case.get("kind", "")))
    styles = case.get("styles") or ["plain"]
    main = next((style for style in STYLE_ORDER if style in styles), styles[0])
    return (case["category"], main)


def split(cases: List[dict], rng: random.Random) -> Tuple[List[dict], List[dict]]:
    groups: Dict[Tuple[str, str], List[dict]] = defaultdict(list)
    for case in cases:
        groups[stratum(case)].append(case)
    dev: List[dict] = []
    holdout: List[dict] = []
    for key in sorted(groups):
        group = groups[key]
        rng.shuffle(group)
        take = round(len(group) / 5) if len(group) >= 3 else 0
        holdout.extend(group[:take])
        dev.extend(group[take:])
    return dev, holdout


def append(path: Path, cases: List[dict], header: str) -> None:
    existing = path.read_text(encoding="utf-8") if path.exists() else header
    body = yaml.safe_dump(cases, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(existing.rstrip("\n") + "\n" + body, encoding="utf-8")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positives", type=Path, nargs="+", required=True)
    parser.add_argument("--near-misses", type=Path, nargs="+", required=True)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    for name, paths in (("positives", args.positives), ("near_misses", args.near_misses)):
        cases = [case for path in paths for case in yaml.safe_load(path.read_text("utf-8"))]
        dev, holdout = split(cases, rng)
        append(ROOT / "data" / "red_flags" / f"dev_{name}.yml", dev, HEADER["dev"])
        append(ROOT / "tests" / "red_flags" / f"holdout_{name}.yml", holdout, HEADER["holdout"])
        print(f"{name}: {len(dev)} development, {len(holdout)} held out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
