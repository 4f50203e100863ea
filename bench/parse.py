"""In-process NLU parse time per message: the trained model's whole NLU pipeline.

Usage: python -m bench.parse [--model MODEL] [--messages N] [--warm-up W] [--profile OUT]

Loads the newest model in ``models/`` (or ``--model``) with Rasa's ``Agent`` in this
process and parses a fixed, varied sample of messages: intent examples of
``data/nlu/``, the off-topic set ``bench/data/off_topic.yml`` and the development
red-flag cases (warning signs with and without typos, near-misses, two-message
dialogues). Two figures, each p50 and mean in ms over the sample after ``W`` warm-up
parses:

- ``single``: ``Agent.parse_message(text)``, a message with no conversation before it;
- ``in conversation``: ``MessageProcessor.parse_message`` with a tracker whose latest
  user message is the message before it in the sample (the dialogue's first turn for
  a two-message case), as the Rasa server parses a message of an ongoing conversation;
  this is the path where the red-flag rules also look at the previous message.

Wall-clock time (``time.perf_counter``) per parse; speed is measured here only, never
asserted in tests. ``--profile OUT`` also writes a cProfile of the single-message run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import random
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]


def sample(count: int, seed: int = 3) -> List[Tuple[str | None, str]]:
    """``count`` (previous message or None, message) pairs, in a fixed shuffled order."""
    from bench.nlu import examples
    from clinic.nlu.red_flag_model import read_cases

    texts = [
        text for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) for text, _ in examples(path)
    ]
    texts += [text for text, _ in examples(ROOT / "bench" / "data" / "off_topic.yml")]
    pairs: List[Tuple[str | None, str]] = [(None, text) for text in texts]
    for name in ("dev_positives.yml", "dev_near_misses.yml"):
        for case in read_cases(ROOT / "data" / "red_flags" / name):
            turns = case.get("turns") or [case["text"]]
            pairs.append((turns[-2] if len(turns) > 1 else None, turns[-1]))
    rng = random.Random(seed)
    rng.shuffle(pairs)
    picked = pairs[:count]
    # A message without a dialogue turn before it follows the previous message of the sample.
    return [
        (previous if previous is not None else (picked[i - 1][1] if i else None), text)
        for i, (previous, text) in enumerate(picked)
    ]


def newest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("no model in models/: make train")
    return models[-1]


def figures(ms: List[float]) -> Dict[str, float]:
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "p95_ms": round(sorted(ms)[int(0.95 * (len(ms) - 1))], 2),
    }


async def measure(
    agent: Any, pairs: List[Tuple[str | None, str]], warm_up: int, profile: Path | None
) -> Dict[str, Any]:
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    for _, text in pairs[:warm_up]:
        await agent.parse_message(text)

    single = []
    profiler = cProfile.Profile() if profile else None
    for _, text in pairs:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        await agent.parse_message(text)
        if profiler:
            profiler.disable()
        single.append((time.perf_counter() - start) * 1000)
    if profiler and profile:
        profiler.dump_stats(str(profile))

    conversation = []
    for previous, text in pairs:
        events = [UserUttered(previous)] if previous else []
        tracker = DialogueStateTracker.from_events("bench", events)
        start = time.perf_counter()
        await agent.processor.parse_message(UserMessage(text, sender_id="bench"), tracker)
        conversation.append((time.perf_counter() - start) * 1000)
    return {
        "messages": len(pairs),
        "single": figures(single),
        "in_conversation": figures(conversation),
    }


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output file")
    args = parser.parse_args(argv)

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    model = args.model or newest_model()
    agent = Agent.load(str(model))
    pairs = sample(args.messages)
    result = asyncio.run(measure(agent, pairs, args.warm_up, args.profile))
    print(yaml.safe_dump({"model": model.name, **result}, sort_keys=False), end="")


if __name__ == "__main__":
    main()
