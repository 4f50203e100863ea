"""Held-out figures of the forms' answer-or-digression decision, and the bar they must clear.

Usage: check_slot_answers.py [--model DIR] [--min-accuracy 0.9] [-v]

``tests/slot_answers/holdout_round9.yml`` holds replies typed to the forms' questions by a
writer who saw neither ``clinic/booking/slot_answer.py`` nor the other case files: names
(many of them English or clinic words), replies that are not names, time answers and real
questions asked mid-form. Each reply is parsed by the newest trained model in this process
(Rasa's ``Agent``) for its intent, as the running assistant would, and then decided:

- a name is right when ``patient_name`` takes it as an answer;
- a reply that is not a name is right when ``patient_name`` does not take it;
- a time is right when both ``preferred_start`` and ``callback_time`` take it;
- a question is right when it is a digression at the name, the phone and the time alike
  (the rules answer it and the form asks again).

Prints the figure of each list and of all together (with ``-v`` the misses) and exits 1
when all together are below ``--min-accuracy``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Callable, Dict, List

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOLDOUT = ROOT / "tests" / "slot_answers" / "holdout_round9.yml"

from scripts.check_nlu import intents, newest_model  # noqa: E402


def judges() -> Dict[str, Callable[[str, str], bool]]:
    """Per list of the held-out file: is the decision right for this reply and intent?"""
    from clinic.booking.slot_answer import Kind, decide

    def answers(slot: str, text: str, intent: str) -> bool:
        return decide(slot, text, intent).kind is Kind.ANSWER

    return {
        "names": lambda text, intent: answers("patient_name", text, intent),
        "not_names": lambda text, intent: not answers("patient_name", text, intent),
        "times": lambda text, intent: all(
            answers(slot, text, intent) for slot in ("preferred_start", "callback_time")
        ),
        "questions": lambda text, intent: all(
            decide(slot, text, intent).kind is Kind.DIGRESSION
            for slot in ("patient_name", "phone", "preferred_start")
        ),
    }


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    args = parser.parse_args(argv)

    cases: Dict[str, List[str]] = yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))
    model = args.model if args.model.is_file() else newest_model(args.model)
    texts = [text for kind in judges() for text in cases[kind]]
    predicted = iter(asyncio.run(intents(model, texts)))
    right_all = total = 0
    misses = []
    for kind, judge in judges().items():
        right = 0
        for text in cases[kind]:
            intent = next(predicted)
            if judge(text, intent):
                right += 1
            else:
                misses.append(f"  miss ({kind}): {text!r}, intent {intent}")
        print(f"form answers, held out, {kind}: {right}/{len(cases[kind])}")
        right_all, total = right_all + right, total + len(cases[kind])
    accuracy = right_all / total
    print(f"form answers, held out ({model.name}): {right_all}/{total} = {accuracy:.3f}")
    if args.verbose:
        print("\n".join(misses))
    if accuracy < args.min_accuracy:
        print(f"FAIL: form answers {accuracy:.3f} < {args.min_accuracy}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
