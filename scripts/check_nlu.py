"""Held-out NLU figures of the newest model, and the bar they must clear.

Usage: check_nlu.py [--model DIR] [--min-accuracy 0.94] [--min-rejection 0.97] [-v]

- In-domain: every message of ``tests/nlu_holdout.yml`` (phrasings kept out of
  training) parsed by the trained model in this process (Rasa's ``Agent``); a message
  answered with ``nlu_fallback`` or ``out_of_scope`` counts as wrong.
- Off-topic: the validation split of CLINC150 (``../shared/data/clinc150``, everyday
  requests of 8 domains; ``small_talk`` and ``meta`` left out as its README says,
  ``oos_val`` included), never used for training; a message counts as rejected when
  the model says ``out_of_scope`` or ``nlu_fallback``.

Prints both figures (and with ``-v`` the misses) and exits 1 below either bar.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model's components live in the project's package
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
CLINC = ROOT.parent / "shared" / "data" / "clinc150"
REJECTED = {"out_of_scope", "nlu_fallback"}
OVERLAPPING_DOMAINS = {"small_talk", "meta"}


def holdout_examples(path: Path = HOLDOUT) -> List[Tuple[str, str]]:
    """``(text, intent)`` pairs of a Rasa YAML NLU file."""
    pairs = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in str(block.get("examples", "")).splitlines():
            if line.strip().startswith("- "):
                pairs.append((line.strip()[2:].strip(), block["intent"]))
    return pairs


def clinc_validation(folder: Path = CLINC) -> List[str]:
    """CLINC150's validation queries outside the two domains that overlap chit-chat."""
    data = json.loads((folder / "train_val.json").read_text(encoding="utf-8"))
    domains = json.loads((folder / "domains.json").read_text(encoding="utf-8"))
    overlapping = {intent for d in OVERLAPPING_DOMAINS for intent in domains[d]}
    return [text for text, intent in data["val"] if intent not in overlapping] + [
        text for text, _ in data["oos_val"]
    ]


def newest_model(folder: Path) -> Path:
    models = sorted(folder.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise SystemExit(f"no trained model in {folder}: run `make train` first")
    return models[-1]


async def intents(model: Path, texts: List[str]) -> List[str]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # no debug line per parsed message
    agent = Agent.load(str(model))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("--min-rejection", type=float, default=0.0)
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    args = parser.parse_args(argv)

    held = holdout_examples()
    off_topic = clinc_validation()
    model = args.model if args.model.is_file() else newest_model(args.model)
    predicted = asyncio.run(intents(model, [text for text, _ in held] + off_topic))
    in_domain, off = predicted[: len(held)], predicted[len(held) :]

    right = sum(p == intent for p, (_, intent) in zip(in_domain, held, strict=True))
    rejected = sum(p in REJECTED for p in off)
    accuracy, rejection = right / len(held), rejected / len(off)
    print(
        f"held-out NLU ({model.name}): in-domain accuracy {right}/{len(held)} = {accuracy:.3f} "
        f"(fallback counted wrong); off-topic rejection on CLINC150 val "
        f"{rejected}/{len(off)} = {rejection:.3f}"
    )
    accepted_as = Counter(p for p in off if p not in REJECTED).most_common(5)
    print(f"  off-topic taken for: {', '.join(f'{i} x{n}' for i, n in accepted_as) or '-'}")
    if args.verbose:
        for (text, intent), p in zip(held, in_domain, strict=True):
            if p != intent:
                print(f"  miss: {text!r} is {intent}, predicted {p}")
    failed = []
    if accuracy < args.min_accuracy:
        failed.append(f"in-domain accuracy {accuracy:.3f} < {args.min_accuracy}")
    if rejection < args.min_rejection:
        failed.append(f"off-topic rejection {rejection:.3f} < {args.min_rejection}")
    for line in failed:
        print(f"FAIL: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
