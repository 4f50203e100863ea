"""Writes synthetic conversations into a tracker store, in Rasa's ``events`` schema, for the
staff console's benchmark (``bench/console.py``, ``make bench-console``):

    python scripts/seed_conversations.py var/bench/tracker.db
    python scripts/seed_conversations.py postgresql://user@127.0.0.1/bench_tracker

Each conversation has a session start, 1-5 user messages with intents and confidences,
bot answers and the odd slot; about 3 % carry a red flag, 8 % a fallback, 5 % a booking
reference. Never point it at a tracker store with real conversations.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.console import CONVERSATIONS, database_url, seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tracker", help="a SQLite file or a database URL")
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    parser.add_argument("--days", type=int, default=180, help="spread over this many days")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    began = time.perf_counter()
    total = seed(database_url(args.tracker), args.conversations, args.days, args.seed)
    print(
        f"{args.conversations} conversations, {total} events in {args.tracker} "
        f"({time.perf_counter() - began:.1f} s)"
    )


if __name__ == "__main__":
    main()
