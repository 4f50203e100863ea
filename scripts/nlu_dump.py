"""Writes what NLU makes of every known message, to prove a change leaves results alone.

Usage: nlu_dump.py OUT [--rules-only] [--model MODEL]

Two parts, one line per message (JSON), keyed by file and index, never by text (the
held-out files' texts stay out of the output):

- ``rules``: the red-flag rules (``RedFlagExtractor.entities``: category, start, end)
  on every case of ``data/red_flags/`` and ``tests/red_flags/`` (two-message cases
  with their previous turn) and every example of ``data/nlu/``; each single message
  also once more with the message before it in its file as the previous message,
  so the two-message path runs on thousands of pairs;
- ``parse`` (unless ``--rules-only``): the whole trained model (newest in ``models/``
  or ``--model``) through Rasa's ``Agent``: intent, ranking and every entity, floats
  written with ``repr`` so that a changed last bit shows; each message once alone and
  once after the message before it in its file (as the Rasa server parses it).

Run it before and after a change and ``diff`` the two files: empty means identical.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, Iterator, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (file, index, previous message or None, message)
Item = Tuple[str, int, "str | None", str]


def items() -> Iterator[Item]:
    from bench.nlu import examples
    from clinic.nlu.red_flag_model import read_cases

    files = sorted((ROOT / "data" / "red_flags").glob("*.yml"))
    files += sorted((ROOT / "tests" / "red_flags").glob("*.yml"))
    for path in files:
        name = str(path.relative_to(ROOT))
        before = None
        for index, case in enumerate(read_cases(path)):
            turns = case.get("turns") or [case["text"]]
            if len(turns) > 1:
                yield name, index, turns[-2], turns[-1]
            else:
                yield name, index, None, turns[-1]
                yield name, index, before, turns[-1]
            before = turns[-1]
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        name = str(path.relative_to(ROOT))
        before = None
        for index, (text, _) in enumerate(examples(path)):
            yield name, index, None, text
            yield name, index, before, text
            before = text


def rules_lines() -> Iterator[str]:
    from clinic.nlu.red_flag_extractor import RedFlagExtractor
    from clinic.nlu.spacy_pipeline import build_pipeline, read_patterns

    nlp = build_pipeline(read_patterns())
    extractor = RedFlagExtractor(RedFlagExtractor.get_default_config())
    for name, index, previous, text in items():
        doc = nlp(text.lower())  # as Rasa's SpacyNLP (case_sensitive: false)
        found = [(e["value"], e["start"], e["end"]) for e in extractor.entities(doc, nlp, previous)]
        yield json.dumps(["rules", name, index, previous is not None, found])


def _plain(value: Any) -> Any:
    """Parse output with floats as their repr (exact), keys sorted."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def parse_lines(model: Path) -> List[str]:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    lines = []
    for name, index, previous, text in items():
        if previous is None:
            parsed = await agent.parse_message(text)
        else:
            tracker = DialogueStateTracker.from_events("dump", [UserUttered(previous)])
            parsed = await agent.processor.parse_message(UserMessage(text), tracker)
        keep = {k: parsed.get(k) for k in ("intent", "intent_ranking", "entities")}
        lines.append(json.dumps(["parse", name, index, previous is not None, _plain(keep)]))
    return lines


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rules-only", action="store_true")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    lines = list(rules_lines())
    if not args.rules_only:
        from bench.parse import newest_model

        lines += asyncio.run(parse_lines(args.model or newest_model()))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lines written to {args.out}")


if __name__ == "__main__":
    main()
