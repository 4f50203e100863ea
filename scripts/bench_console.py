"""Server times of the staff console's list and filter pages on a seeded tracker store (not a
test; ``make bench-console`` seeds and measures in one go):

    python scripts/seed_conversations.py var/bench/tracker.db
    python scripts/bench_console.py var/bench/tracker.db

Indexes the events into a fresh app database (timed once), then times each list query and
page (first page, a page deep in the list by its keyset cursor, each filter, search, the
inbox) as the median of a few runs (``bench/console.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.console import TARGET_MS, database_url, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tracker", help="a seeded SQLite file or a database URL")
    parser.add_argument(
        "--app-db", default=None, help="an empty app database (default: a temporary SQLite file)"
    )
    args = parser.parse_args()
    app_url = database_url(args.app_db or str(Path(tempfile.mkdtemp()) / "clinic.db"))
    figures = measure(database_url(args.tracker), app_url)
    backend = app_url.split(":", 1)[0].split("+", 1)[0]
    console = {
        "conversations": figures["conversations"],
        "target_ms": TARGET_MS,
        "backends": {backend: figures},
    }
    print(report.console_table(console))


if __name__ == "__main__":
    main()
